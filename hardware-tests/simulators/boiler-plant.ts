/**
 * A small simulated boiler house behind a Modbus TCP server: a boiler that follows its pressure
 * setpoint while running, with the register layout of config/demo/boiler-tags.yaml.
 */
import { ModbusTcpSimulator } from './modbus-server.ts';

export const BOILER_LAYOUT = {
  tagText: 20, // holding 20..23, "BLR1"
  pressure: 100, // holding, int16, 0.1 bar
  steamTemp: 102, // holding, float32 ABCD, °C
  feedwaterFlow: 104, // holding, float32 CDAB, m³/h
  firing: 106, // holding, uint16, %
  runHours: 110, // holding, uint32, h
  fuelTotal: 112, // holding, float64, m³
  setpoint: 120, // holding, float32, bar (writable)
  alarms: 130, // holding, bit 0 low water, bit 1 high pressure
  state: 131, // holding, uint16: 0 off, 1 purge, 2 ignition, 3 firing, 4 fault
  flueO2: 10, // input, uint16, 0.01 %
  running: 3, // coil (writable)
  flame: 0, // discrete input
} as const;

export interface BoilerSimulator {
  port: number;
  server: ModbusTcpSimulator;
  stop(): Promise<void>;
}

export async function startBoilerSimulator(
  options: { port?: number; host?: string; tickMs?: number } = {},
): Promise<BoilerSimulator> {
  const server = new ModbusTcpSimulator();
  const t = server.tables;
  const L = BOILER_LAYOUT;
  Buffer.from('BLR1', 'latin1').forEach((byte, i) => {
    t.holding[L.tagText + (i >> 1)]! |= i % 2 === 0 ? byte << 8 : byte;
  });
  server.setFloat32('holding', L.setpoint, 10);
  t.coil[L.running] = 1;
  let pressure = 8;
  let runHours = 1200;
  let fuel = 53_000.5;
  let tick = 0;

  const step = () => {
    tick++;
    const running = t.coil[L.running] === 1;
    const setpointBytes = Buffer.alloc(4);
    setpointBytes.writeUInt16BE(t.holding[L.setpoint]!, 0);
    setpointBytes.writeUInt16BE(t.holding[L.setpoint + 1]!, 2);
    const setpoint = setpointBytes.readFloatBE(0);
    const target = running ? setpoint : 0;
    pressure += (target - pressure) * 0.1 + Math.sin(tick / 7) * 0.05;
    const firing = running ? Math.max(0, Math.min(100, 40 + (setpoint - pressure) * 30)) : 0;
    if (running) runHours += 1 / 7200;
    fuel += (firing / 100) * 0.02;
    t.holding[L.pressure] = Math.max(0, Math.round(pressure * 10));
    server.setFloat32('holding', L.steamTemp, 100 + pressure * 8.5);
    const flow = Buffer.alloc(4);
    flow.writeFloatBE(running ? 4 + firing / 20 : 0);
    // CDAB: the low word first.
    t.holding[L.feedwaterFlow] = flow.readUInt16BE(2);
    t.holding[L.feedwaterFlow + 1] = flow.readUInt16BE(0);
    t.holding[L.firing] = Math.round(firing);
    t.holding[L.runHours] = Math.floor(runHours) >>> 16;
    t.holding[L.runHours + 1] = Math.floor(runHours) & 0xffff;
    const fuelBytes = Buffer.alloc(8);
    fuelBytes.writeDoubleBE(fuel);
    for (let i = 0; i < 4; i++) t.holding[L.fuelTotal + i] = fuelBytes.readUInt16BE(i * 2);
    t.holding[L.alarms] = (pressure > setpoint * 1.3 ? 2 : 0) | (running && tick % 600 < 5 ? 1 : 0);
    t.holding[L.state] = running ? 3 : 0;
    t.input[L.flueO2] = running ? Math.round(350 + Math.cos(tick / 5) * 40) : 2090;
    t.discrete[L.flame] = running ? 1 : 0;
  };
  step();
  const timer = setInterval(step, options.tickMs ?? 500);
  timer.unref();
  const port = await server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  return {
    port,
    server,
    async stop() {
      clearInterval(timer);
      await server.close();
    },
  };
}
