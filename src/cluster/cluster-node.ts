// One broker's part in a cluster: it registers (membership.ts), keeps the cluster view
// (cluster-view.ts), campaigns for controller and runs the controller while elected
// (controller-election.ts, controller.ts), derives its replica roles (replica-roles.ts), and
// creates topics by writing their spec for the controller to place.

import { randomUUID } from 'node:crypto';
import { assert } from '../util/assert.js';
import { SpoolError, Errors, isSpoolError } from '../util/errors.js';
import { ClusterView } from './cluster-view.js';
import { Controller, type ControllerOptions } from './controller.js';
import { ControllerElection } from './controller-election.js';
import { EtcdStore } from './etcd-store.js';
import { KeyLayout } from './layout.js';
import { ProducerIdBlocks } from './producer-id-blocks.js';
import { silentClusterLogger, type ClusterLogger } from './logger.js';
import { Membership } from './membership.js';
import { defaultMinInsyncReplicas, defaultReplicationFactor } from './placement.js';
import { ReplicaRoles } from './replica-roles.js';
import { DEFAULT_LEASE_TTL_MS } from './lease-keeper.js';
import type { ClusterStore, Operation } from './store.js';
import { decodeTopicSpec, encodeValue, type TopicAssignment, type TopicSpec } from './values.js';
import { summarizeCluster, type ClusterSummary } from './summary.js';
import { parseClusterUrl } from './etcd-url.js';
import { readOrCreateClusterId } from './cluster-id.js';

export { DEFAULT_LEASE_TTL_MS };
/** How long createTopic waits for the controller to place the topic. */
export const DEFAULT_TOPIC_PLACEMENT_TIMEOUT_MS = 10_000;
/** Wait between attempts to write a topic's spec while etcd is unreachable. */
const TOPIC_WRITE_RETRY_MS = 250;

export interface ClusterNodeOptions {
  /** `etcd://host:port[,host:port][/root]`. */
  readonly url: string;
  readonly nodeId: number;
  /** Native protocol address others reach this broker at. */
  readonly advertised: { readonly host: string; readonly port: number };
  readonly kafkaAdvertised?: { readonly host: string; readonly port: number };
  /** Default DEFAULT_LEASE_TTL_MS; whole seconds. */
  readonly leaseTtlMs?: number;
  readonly logger?: ClusterLogger;
  /** For tests: a store of their own instead of one built from the url. */
  readonly store?: ClusterStore;
  /** The controller's settings while this broker is controller (the automatic leader rebalance). */
  readonly controller?: ControllerOptions;
  /**
   * Called with the cluster id (cluster-id.ts) and the key root before this broker registers;
   * throwing stops the start (the data directory belongs to another cluster).
   */
  readonly checkClusterId?: (clusterId: string, root: string) => void;
}

export interface CreateTopicRequest {
  readonly partitions: number;
  /** Default min(3, live brokers). */
  readonly replicationFactor?: number;
  /** Default: configs['min.insync.replicas'], else 2 when the replication factor is 3 or more, else 1. */
  readonly minInsyncReplicas?: number;
  readonly configs?: Readonly<Record<string, string>>;
}

const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
/** Partitions a topic may have (createTopic's and createPartitions' bound). */
const MAX_TOPIC_PARTITIONS = 100_000;
/** Compare-and-swap attempts of a spec change that loses to concurrent writers before it gives up. */
const SPEC_CHANGE_ATTEMPTS = 8;

export class ClusterNode {
  readonly membership: Membership;
  readonly view: ClusterView;
  readonly roles: ReplicaRoles;
  readonly election: ControllerElection;
  /** InitProducerId's ids, in blocks reserved in etcd (producer-id-blocks.ts). */
  readonly producerIds: ProducerIdBlocks;
  /** `<root>/cluster-id`: read (or created) before registering. */
  clusterId = '';
  private controller: Controller | null = null;
  private closed = false;

  private constructor(
    readonly store: ClusterStore,
    readonly layout: KeyLayout,
    private readonly logger: ClusterLogger,
    membership: Membership,
    controllerOptions: ControllerOptions = {},
  ) {
    this.membership = membership;
    this.view = new ClusterView(store, layout, logger);
    this.roles = new ReplicaRoles(store, this.view, layout, membership);
    this.election = new ControllerElection(store, this.view, layout, membership, logger);
    this.producerIds = new ProducerIdBlocks(store, layout, logger);
    this.election.on('elected', (epoch) => {
      this.controller?.stop();
      this.controller = new Controller(store, this.view, layout, epoch, logger, controllerOptions);
      this.controller.start();
    });
    this.election.on('resigned', () => {
      this.controller?.stop();
      this.controller = null;
    });
  }

  /** Registers and starts watching; resolves once registered and the first view is loaded. */
  static async start(options: ClusterNodeOptions): Promise<ClusterNode> {
    const address = parseClusterUrl(options.url);
    const logger = options.logger ?? silentClusterLogger;
    const store = options.store ?? new EtcdStore({ endpoints: address.endpoints });
    const layout = new KeyLayout(address.root);
    const registration = {
      nodeId: options.nodeId,
      host: options.advertised.host,
      port: options.advertised.port,
      ...(options.kafkaAdvertised ? { kafkaHost: options.kafkaAdvertised.host, kafkaPort: options.kafkaAdvertised.port } : {}),
      incarnation: randomUUID(),
    };
    const membership = new Membership(store, layout, registration, logger, { leaseTtlMs: options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS });
    const node = new ClusterNode(store, layout, logger, membership, options.controller);
    try {
      node.clusterId = await readOrCreateClusterId(store, layout, () => node.closed);
      options.checkClusterId?.(node.clusterId, layout.root);
      await membership.start();
      await node.startView();
    } catch (error) {
      await node.close();
      throw error;
    }
    node.roles.start();
    node.election.start();
    // The first block now, so the first InitProducerId does not wait on etcd.
    node.producerIds.prefetch();
    return node;
  }

  private async startView(): Promise<void> {
    for (;;) {
      try {
        await this.view.start();
        return;
      } catch (error) {
        if (this.closed) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  get nodeId(): number {
    return this.membership.nodeId;
  }

  /** The controller epoch while this broker is the controller, else null. */
  get controllerEpoch(): number | null {
    return this.election.epoch;
  }

  /**
   * Writes the topic's spec (create-if-absent) and waits for the controller to place it.
   * TOPIC_ALREADY_EXISTS, INVALID_REPLICATION_FACTOR, INVALID_PARTITIONS, INVALID_TOPIC,
   * CLUSTER_UNAVAILABLE, REQUEST_TIMED_OUT (not placed in time: the spec stays and the
   * controller places it when it can).
   */
  async createTopic(name: string, request: CreateTopicRequest, timeoutMs = DEFAULT_TOPIC_PLACEMENT_TIMEOUT_MS): Promise<TopicAssignment> {
    if (!TOPIC_NAME.test(name)) throw new SpoolError(Errors.INVALID_TOPIC, `invalid topic name '${name}'`);
    if (!Number.isSafeInteger(request.partitions) || request.partitions < 1 || request.partitions > MAX_TOPIC_PARTITIONS) throw new SpoolError(Errors.INVALID_PARTITIONS);
    const liveBrokers = this.view.brokers.size;
    const replicationFactor = request.replicationFactor ?? defaultReplicationFactor(liveBrokers);
    if (!Number.isSafeInteger(replicationFactor) || replicationFactor < 1 || replicationFactor > liveBrokers) {
      throw new SpoolError(Errors.INVALID_REPLICATION_FACTOR, `replication factor ${replicationFactor} with ${liveBrokers} live brokers`);
    }
    // Kafka's topic config min.insync.replicas, when given there rather than as the field.
    const configured = request.configs?.['min.insync.replicas'];
    const minInsyncReplicas = request.minInsyncReplicas ?? (configured !== undefined && /^\d+$/.test(configured) ? Number(configured) : defaultMinInsyncReplicas(replicationFactor));
    if (!Number.isSafeInteger(minInsyncReplicas) || minInsyncReplicas < 1 || minInsyncReplicas > replicationFactor) {
      throw new SpoolError(Errors.INVALID_CONFIG, `min.insync.replicas ${minInsyncReplicas} must be in [1, ${replicationFactor}]`);
    }
    const spec: TopicSpec = { partitions: request.partitions, replicationFactor, minInsyncReplicas, configs: { ...(request.configs ?? {}) } };
    const deadlineMs = Date.now() + timeoutMs;
    await this.writeTopicSpec(name, encodeValue(spec), deadlineMs);
    return this.waitForAssignment(name, Math.max(0, deadlineMs - Date.now()));
  }

  /**
   * The create-if-absent write of a topic's spec. While etcd is unreachable (restarting, a
   * network blip) it retries until the deadline, so a creation waits out an etcd outage
   * (issue #12: topic changes wait while etcd is down). A retry that finds the key already
   * holding exactly our spec takes it as our own earlier attempt, whose answer was lost.
   */
  private async writeTopicSpec(name: string, value: Buffer, deadlineMs: number): Promise<void> {
    const key = this.layout.topic(name);
    let retried = false;
    for (;;) {
      try {
        const result = await this.store.transaction([{ key, kind: 'absent' }], [{ kind: 'put', key, value }]);
        if (result.succeeded) return;
        if (retried && (await this.store.get(key))?.value.equals(value) === true) return;
        throw new SpoolError(Errors.TOPIC_ALREADY_EXISTS, `topic '${name}' already exists`);
      } catch (error) {
        if (!isSpoolError(error, Errors.CLUSTER_UNAVAILABLE) || this.closed || Date.now() + TOPIC_WRITE_RETRY_MS >= deadlineMs) throw error;
        retried = true;
        await new Promise((resolve) => setTimeout(resolve, TOPIC_WRITE_RETRY_MS));
      }
    }
  }

  private waitForAssignment(name: string, timeoutMs: number): Promise<TopicAssignment> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const assignment = this.view.assignments.get(name);
        if (!assignment) return false;
        unsubscribe();
        clearTimeout(timer);
        resolve(assignment);
        return true;
      };
      const unsubscribe = this.view.onChange((change) => {
        if (change.topics.has(name)) check();
      });
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new SpoolError(Errors.REQUEST_TIMED_OUT, `topic '${name}' not placed by the controller within ${timeoutMs} ms`));
      }, timeoutMs);
      check();
    });
  }

  /**
   * Deletes the topic from the cluster: its spec, assignment, every partition state and any
   * pending reassignment in one transaction (so no broker ever sees half a topic). Each broker holding a replica deletes
   * its local log when it sees the spec vanish (cluster-replication.ts). UNKNOWN_TOPIC.
   */
  async deleteTopic(name: string): Promise<void> {
    await this.changeSpec(name, () => null);
  }

  /**
   * Raises the topic's partition count in its spec (CAS) and waits for the controller to place
   * the new partitions. UNKNOWN_TOPIC, INVALID_PARTITIONS (not greater, or above the limit),
   * REQUEST_TIMED_OUT. `validateOnly`: the checks only.
   */
  async createPartitions(name: string, count: number, validateOnly = false, timeoutMs = DEFAULT_TOPIC_PLACEMENT_TIMEOUT_MS): Promise<void> {
    await this.changeSpec(name, (spec) => {
      if (!Number.isSafeInteger(count) || count <= spec.partitions || count > MAX_TOPIC_PARTITIONS) {
        throw new SpoolError(Errors.INVALID_PARTITIONS, `topic '${name}' has ${spec.partitions} partitions; the new count must be greater and at most ${MAX_TOPIC_PARTITIONS}, got ${count}`);
      }
      return validateOnly ? undefined : { ...spec, partitions: count };
    });
    if (validateOnly) return;
    await this.waitFor(name, timeoutMs, () => (this.view.assignments.get(name)?.replicas.length ?? 0) >= count, `${count} partitions of topic '${name}' not placed`);
  }

  /**
   * Merges `configs` into the topic's spec (CAS); every broker holding a replica applies the
   * new configs to its local log when it sees the spec change. `min.insync.replicas` also sets
   * the spec's minInsyncReplicas (checked against the replication factor). UNKNOWN_TOPIC, INVALID_CONFIG.
   */
  async alterTopicConfig(name: string, configs: Readonly<Record<string, string>>): Promise<void> {
    await this.changeSpec(name, (spec) => {
      const configured = configs['min.insync.replicas'];
      let minInsyncReplicas = spec.minInsyncReplicas;
      if (configured !== undefined) {
        minInsyncReplicas = /^\d+$/.test(configured) ? Number(configured) : NaN;
        if (!Number.isSafeInteger(minInsyncReplicas) || minInsyncReplicas < 1 || minInsyncReplicas > spec.replicationFactor) {
          throw new SpoolError(Errors.INVALID_CONFIG, `min.insync.replicas ${configured} must be in [1, ${spec.replicationFactor}]`);
        }
      }
      return { ...spec, minInsyncReplicas, configs: { ...spec.configs, ...configs } };
    });
  }

  /**
   * Read-modify-write of a topic spec by CAS on its modRevision, retried when a concurrent
   * writer wins. `change` returns the new spec, null to delete the topic, undefined to write nothing.
   */
  private async changeSpec(name: string, change: (spec: TopicSpec) => TopicSpec | null | undefined): Promise<void> {
    const key = this.layout.topic(name);
    for (let attempt = 0; attempt < SPEC_CHANGE_ATTEMPTS; attempt++) {
      const current = await this.store.get(key);
      const spec = current ? decodeTopicSpec(current.value) : null;
      if (!current || !spec) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic '${name}' does not exist in the cluster`);
      const next = change(spec);
      if (next === undefined) return;
      const operations: Operation[] = next === null
        ? [
            { kind: 'delete', key },
            { kind: 'delete', key: this.layout.assignment(name) },
            { kind: 'deletePrefix', prefix: this.layout.topicPartitions(name) },
            { kind: 'deletePrefix', prefix: `${this.layout.reassignments}${name}/` },
          ]
        : [{ kind: 'put', key, value: encodeValue(next) }];
      const result = await this.store.transaction([{ key, kind: 'modRevision', modRevision: current.modRevision }], operations);
      if (result.succeeded) return;
    }
    throw new SpoolError(Errors.STATE_CHANGED, `topic '${name}': its spec kept changing under ${SPEC_CHANGE_ATTEMPTS} attempts`);
  }

  private waitFor(name: string, timeoutMs: number, done: () => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (done()) return resolve();
      const unsubscribe = this.view.onChange((change) => {
        if (!change.topics.has(name) || !done()) return;
        unsubscribe();
        clearTimeout(timer);
        resolve();
      });
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new SpoolError(Errors.REQUEST_TIMED_OUT, `${what} by the controller within ${timeoutMs} ms`));
      }, timeoutMs);
    });
  }

  describe(): ClusterSummary {
    return summarizeCluster(this.view);
  }

  /** Leaves the cluster: stops the controller, revokes the lease (etcd deletes our keys at once). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.election.close();
    this.controller?.stop();
    this.controller = null;
    this.roles.close();
    await this.view.close();
    await this.membership.close();
    this.store.close();
  }
}

assert(DEFAULT_LEASE_TTL_MS % 1000 === 0, 'lease TTLs are whole seconds');
