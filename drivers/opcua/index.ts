/** The OPC UA driver's door: its factory for the gateway's driver registry, and its certificate store. */
import { type DriverFactory, duplicateTagProblems, type SourceConfig } from '../core/index.ts';
import type { OpcuaSourceConfig } from './driver.ts';
import { LazyOpcuaDriver } from './lazy-driver.ts';
import { OpcuaBrowse, OpcuaSettings, OpcuaTagConfig } from './settings.ts';

function check(config: SourceConfig<OpcuaSettings, OpcuaTagConfig>): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const s = config.settings;
  if (s.securityMode === 'None' && !s.allowInsecure) {
    problems.push({
      path: 'settings/securityMode',
      message: 'None sends everything unsigned and in clear text; set allowInsecure: true to accept that',
    });
  }
  if (s.securityMode === 'None' && s.user) {
    problems.push({ path: 'settings/user', message: 'a password is never sent over securityMode None' });
  }
  if (s.user && s.certificate) {
    problems.push({
      path: 'settings/certificate',
      message: 'give one identity: user or certificate, not both',
    });
  }
  if (s.reconnectMaxMs < s.reconnectMinMs) {
    problems.push({ path: 'settings/reconnectMaxMs', message: 'must be at least reconnectMinMs' });
  }
  if (config.tags.length === 0 && config.browse === undefined) {
    problems.push({ path: 'tags', message: 'list tags (name and nodeId) or set browse' });
  }
  problems.push(...duplicateTagProblems(config.tags));
  return problems;
}

export const opcuaDriver: DriverFactory<OpcuaSettings, OpcuaTagConfig> = {
  name: 'opcua',
  tagsNotConfigurable:
    'OPC UA tags are the server’s nodes: list them by nodeId in the config, or browse the server (the gateway does not create nodes)',
  settingsSchema: OpcuaSettings,
  tagSchema: OpcuaTagConfig,
  browseSchema: OpcuaBrowse,
  secretFields: ['user.password'],
  fileFields: ['certificate.certificateFile', 'certificate.privateKeyFile'],
  check,
  create: (config, host) => new LazyOpcuaDriver(config as OpcuaSourceConfig, host),
};

export {
  type CertificateFacts,
  listCertificates,
  ownCertificateFile,
  rejectTrusted,
  trustRejected,
} from './pki.ts';
export type { OpcuaSettings, OpcuaTagConfig } from './settings.ts';
