/** A Modbus TCP simulator with `count` float32 values from holding register 0, all changing every second. */
import { ModbusTcpSimulator } from '../hardware-tests/simulators/index.ts';

const count = Number(process.argv[2] ?? 10_000);
const sim = new ModbusTcpSimulator();
let tick = 0;
const step = () => {
  tick++;
  for (let i = 0; i < count; i++) sim.setFloat32('holding', i * 2, Math.sin((tick + i) / 10) * 100 + i);
};
step();
setInterval(step, 1000);
const port = await sim.listen();
console.log(`READY ${port}`);
// Stops with its parent: the benchmark closes stdin when it ends (or dies).
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
