/** Simulators that stand in for plant devices in the demo, the tests and the benchmarks. */
export { BOILER_LAYOUT, type BoilerSimulator, startBoilerSimulator } from './boiler-plant.ts';
export {
  createTables,
  type Fault,
  type ModbusTables,
  ModbusTcpSimulator,
  type Unmapped,
} from './modbus-server.ts';
