/** Who is asking, and through which door. No operation runs without one. */
export interface Principal {
  /** `user:<oid-or-sub>`, or `local:<name>` for the loopback API. */
  subject: string;
  groups: string[];
}

export interface CallContext {
  requestId: string;
  origin: 'local' | 'link';
  principal: Principal;
  app?: string;
  consentId?: string;
}
