/** The machine as the console's overview shows it, from systeminformation; read at most every 5 s. */
import si from 'systeminformation';

export interface MachineFacts {
  cpuLoadPercent: number;
  cpus: number;
  memoryUsedMB: number;
  memoryTotalMB: number;
  disks: { mount: string; usedPercent: number; sizeGB: number }[];
  os: string;
  uptimeS: number;
  interfaces: { name: string; addresses: string[]; up: boolean }[];
}

let cached: { at: number; facts: Promise<MachineFacts> } | undefined;

async function read(): Promise<MachineFacts> {
  const [load, mem, disks, os, net] = await Promise.all([
    si.currentLoad(),
    si.mem(),
    si.fsSize().catch(() => []),
    si.osInfo(),
    si.networkInterfaces().catch(() => []),
  ]);
  const interfaces = (Array.isArray(net) ? net : [net]).map((n) => ({
    name: n.iface,
    addresses: [n.ip4, n.ip6].filter(Boolean),
    up: n.operstate === 'up' || n.internal,
  }));
  return {
    cpuLoadPercent: Math.round(load.currentLoad),
    cpus: load.cpus.length,
    memoryUsedMB: Math.round(mem.active / 1048576),
    memoryTotalMB: Math.round(mem.total / 1048576),
    disks: disks.map((d) => ({
      mount: d.mount,
      usedPercent: Math.round(d.use),
      sizeGB: Math.round(d.size / 1e9),
    })),
    os: `${os.distro} ${os.release} (${os.platform} ${os.arch}, kernel ${os.kernel})`,
    uptimeS: Math.round(si.time().uptime),
    interfaces,
  };
}

export function machineFacts(now = Date.now()): Promise<MachineFacts> {
  if (!cached || now - cached.at > 5000) cached = { at: now, facts: read() };
  return cached.facts;
}
