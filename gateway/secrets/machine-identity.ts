/**
 * The machine's identity, from which the key that wraps the master key is derived: the OS installation
 * id (machine-id on Linux, MachineGuid on Windows) and the hardware UUID where the firmware has one,
 * read with systeminformation. A copy of the gateway's files on another machine gets another identity.
 */
import si from 'systeminformation';

export async function machineIdentity(): Promise<string> {
  const { os, hardware } = await si.uuid();
  if (!os && !hardware)
    throw new Error('this machine reports no installation id or hardware UUID to bind secrets to');
  return `os=${os}|hw=${hardware}`;
}
