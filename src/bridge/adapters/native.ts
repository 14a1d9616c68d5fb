/** The native adapter: the contract's `desired`/`schedule` topics, which every zone gets anyway. */
import { type BridgeAdapter, NO_ACL } from './adapter.js';

export const nativeAdapter: BridgeAdapter = {
  name: 'native',
  check: (target) =>
    Object.keys(target.options).map((option) => ({ option, message: 'the native adapter takes no options' })),
  commands: () => [],
  announcements: () => [],
  birthTopics: () => [],
  bridgeAcl: () => NO_ACL,
  gatewayAcl: () => NO_ACL,
};
