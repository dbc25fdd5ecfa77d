/** The Modbus driver's door: its factory, for the gateway's driver registry. */
import { type DriverFactory, duplicateTagProblems, type SourceConfig } from '../core/index.ts';
import { pointSpan, resolvePoint } from './address.ts';
import { ModbusDriver, type ModbusSourceConfig } from './driver.ts';
import { ModbusPoll, ModbusSettings, ModbusTagConfig } from './settings.ts';

function check(config: SourceConfig<ModbusSettings, ModbusTagConfig>): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const s = config.settings;
  if ((s.transport === 'tcp' || s.transport === 'rtuOverTcp') && !s.host) {
    problems.push({ path: 'settings/host', message: `transport ${s.transport} needs host` });
  }
  if (s.transport === 'rtu' && !s.serial) {
    problems.push({ path: 'settings/serial', message: 'transport rtu needs serial.path' });
  }
  if (s.reconnectMaxMs < s.reconnectMinMs) {
    problems.push({ path: 'settings/reconnectMaxMs', message: 'must be at least reconnectMinMs' });
  }
  const groups = ((config.poll as ModbusPoll | undefined)?.groups ?? {}) as Record<string, unknown>;
  problems.push(...duplicateTagProblems(config.tags));
  config.tags.forEach((tag, i) => {
    const at = `tags/${i}`;
    if (tag.group !== undefined && tag.group !== 'default' && !(tag.group in groups)) {
      problems.push({ path: `${at}/group`, message: `no poll group ${tag.group} in poll.groups` });
    }
    try {
      const point = resolvePoint(tag, { unitId: s.unitId, addressBase: s.addressBase });
      const max =
        point.table === 'coil' || point.table === 'discrete' ? s.maxBitsPerRead : s.maxRegistersPerRead;
      if (pointSpan(point) > max) {
        problems.push({
          path: at,
          message: `the tag spans ${pointSpan(point)} addresses; one read takes at most ${max}`,
        });
      }
      if (tag.writable && point.table !== 'coil' && point.table !== 'holding') {
        problems.push({ path: `${at}/writable`, message: `${point.table} is read-only in Modbus` });
      }
    } catch (error) {
      problems.push({ path: `${at}/address`, message: (error as Error).message });
    }
  });
  return problems;
}

export const modbusDriver: DriverFactory<ModbusSettings, ModbusTagConfig> = {
  name: 'modbus',
  tagsInConfig: true,
  settingsSchema: ModbusSettings,
  tagSchema: ModbusTagConfig,
  pollSchema: ModbusPoll,
  check,
  create: (config, host) => new ModbusDriver(config as ModbusSourceConfig, host),
};

export { parseAddress, resolvePoint } from './address.ts';
export { decodeRegisters, encodeValue } from './codec.ts';
export { type PlanLimits, planReads, type ReadBlock } from './planner.ts';
export type { ModbusSettings, ModbusTagConfig } from './settings.ts';
