/** Simulators that stand in for plant devices in the demo, the tests and the benchmarks. */
export { BOILER_LAYOUT, type BoilerSimulator, startBoilerSimulator } from './boiler-plant.ts';
export {
  createTables,
  type Fault,
  type ModbusTables,
  ModbusTcpSimulator,
  type Unmapped,
} from './modbus-server.ts';
export {
  type OpcuaSimulator,
  type OpcuaSimulatorOptions,
  SIMULATOR_USER,
  startOpcuaSimulator,
} from './opcua-server.ts';
export { LINE_STATES } from './packaging-line.ts';
