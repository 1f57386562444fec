// iSCSI initiator names: one rule for the node plugin (the name it reports),
// the controller (the node ID it is given), the engine (an ACL it records in
// the journal) and the LIO writer (the ACL directory it makes). RFC 3720's
// three forms as open-iscsi writes them; no '/' (an ACL is a configfs
// directory named after the initiator) and at most 223 characters (LIO's
// TRANSPORT_IQN_LEN 224 with its NUL). A name one layer accepts is never
// refused by the next after the journal recorded it.
export const MAX_INITIATOR_NAME_LENGTH = 223;

export const INITIATOR_NAME = /^(iqn\.\d{4}-\d{2}\.[a-z0-9][a-z0-9.-]*(:[\x21-\x2e\x30-\x7e]+)?|eui\.[0-9a-f]{16}|naa\.[0-9a-f]{16}([0-9a-f]{16})?)$/i;

export const isInitiatorName = (name: string): boolean => name.length <= MAX_INITIATOR_NAME_LENGTH && INITIATOR_NAME.test(name);
