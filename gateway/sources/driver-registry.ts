/** The drivers this gateway build carries. A source's `driver` names one of them. */
import type { DriverFactory } from '../../drivers/core/index.ts';
import { modbusDriver } from '../../drivers/modbus/index.ts';
import { opcuaDriver } from '../../drivers/opcua/index.ts';
import { sqlDriver } from '../../drivers/sql/index.ts';
import { scriptDriver } from '../script-tags/driver.ts';

export const DRIVERS: readonly DriverFactory[] = [
  modbusDriver as DriverFactory,
  opcuaDriver as DriverFactory,
  sqlDriver as DriverFactory,
  scriptDriver,
];

export function findDriver(
  name: string,
  drivers: readonly DriverFactory[] = DRIVERS,
): DriverFactory | undefined {
  return drivers.find((d) => d.name === name);
}
