// The broker: TCP listener, connections, dispatch, fetch waiters. See README.md.

export { startBroker, type Broker, type BrokerStats } from './broker.js';
export { type BrokerOptions, DEFAULT_FETCH_MAX_BYTES, DEFAULT_FSYNC, DEFAULT_PORT, DEFAULT_MAX_REQUEST_BYTES, parseFsyncPolicy, parseHostPort, type HostPort } from './options.js';
export { DEFAULT_QUEUED_MAX_REQUEST_BYTES, DEFAULT_REQUEST_READ_TIMEOUT_MS, DEFAULT_CONNECTIONS_MAX_IDLE_MS } from './options.js';
export { type Logger, type LogFields, type LogLevel, LogLevels, isLogLevel, streamLogger, silentLogger } from './logger.js';
export { jsonLogger } from './json-logger.js';
export { BrokerMetrics, type BrokerMetricsOptions, MetricDefaults } from './metrics.js';
export { type BrokerContext } from './context.js';
export { type ListenerTls } from './options.js';
// TLS for the listeners, re-exported for the admin HTTP port and serve (http/ imports only broker/).
export { TlsContext, TlsClientAuths, type TlsClientAuth, type TlsFiles } from '../security/tls.js';
// Who an admin HTTP request is, and what it may do (the console API's ACL checks).
export { sessionFor } from '../security/tls.js';
export { type Principal } from '../security/authorizer.js';
export { authorizationOn, mayCluster, mayGroup, mayTopic, Operation, requireGroup, requireTopic, visibleGroups, visibleTopicEntries } from './core/authorize.js';
export { alterTopicConfig, createPartitions, createTopic, deleteTopic, listOffset, topicConfigRecord } from './core/admin.js';
export { produceTestMessage, type TestMessage } from './core/test-message.js';
export { browseMessages, MAX_BROWSE_MESSAGES, type BrowsePage, type BrowseRequest } from './core/browse.js';
export { describeShareGroup, listShareGroupIds, type ShareGroupView } from './core/share-describe.js';
export { parseBootstrapUser, parseSaslMechanisms, type BootstrapUser, type SaslMechanism, type SaslOptions } from './authentication.js';
export {
  ReplicaManager,
  type PartitionReplicaState,
  type ReplicaState,
  type ReplicationSettings,
} from './core/replica-fetch.js';
export { NativeLeaderChannel } from './replica-channel.js';
export { type ClusterBroker, type ClusterMetadataSource, type PartitionLeadership, NO_LEADER_ID, SINGLE_NODE_ID, singleNodeMetadata } from './core/cluster-metadata.js';
export { viewMetadataSource, type MetadataView } from './view-metadata.js';
export { notJoinedProducerIds, type ProducerIdSource } from './core/producer-ids.js';
export {
  PeerConnection,
  plaintextPeerSecurity,
  DEFAULT_PEER_CONNECT_TIMEOUT_MS,
  type PeerConnectionOptions,
  type PeerLogin,
  type PeerRequestOptions,
  type PeerResponse,
  type PeerSecurity,
} from './peer-connection.js';
export { PeerLoginBackoff } from './peer-login-backoff.js';
