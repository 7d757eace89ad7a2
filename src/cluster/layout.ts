// The etcd key layout (README.md "Key layout" has the table: who writes each key, how).
//
//   <root>/brokers/<nodeId>                      BrokerRegistration   the broker, under its lease
//   <root>/controller                            ControllerRecord     a broker, create-if-absent, under its lease
//   <root>/topics/<topic>                        TopicSpec            any broker (topic create), create-if-absent
//   <root>/assignments/<topic>                   TopicAssignment      the controller
//   <root>/partitions/<topic>/<partition>        PartitionState       the controller; the leader (ISR only)
//   <root>/reassignments/<topic>/<partition>     ReassignmentRequest  an operator (spool topic reassign); the controller deletes it when done
//   <root>/elections/<id>                        ElectionRequest      an operator (spool cluster elect-leaders); the controller deletes it when done
//   <root>/producer-id-block                     ProducerIdBlock      any broker reserving producer ids, by CAS
//   <root>/security/scram-credentials            the credentials file's JSON   any broker changing users, by CAS
//   <root>/security/acls                         the ACL/quota file's JSON     any broker changing ACLs or quotas, by CAS
//   <root>/cluster-id                            ClusterIdRecord      the first broker to start, create-if-absent; never changed
//
// Topic names never contain '/' (Kafka's rule: [A-Za-z0-9._-]), so the last '/' of a
// partition key separates the topic from the partition number.

export interface PartitionKey {
  readonly topic: string;
  readonly partition: number;
}

export class KeyLayout {
  readonly brokers: string;
  readonly controller: string;
  readonly topics: string;
  readonly assignments: string;
  readonly partitions: string;
  readonly reassignments: string;
  readonly elections: string;
  readonly producerIdBlock: string;
  readonly scramCredentials: string;
  readonly acls: string;
  readonly clusterId: string;

  constructor(readonly root: string) {
    this.reassignments = `${root}/reassignments/`;
    this.elections = `${root}/elections/`;
    this.brokers = `${root}/brokers/`;
    this.controller = `${root}/controller`;
    this.topics = `${root}/topics/`;
    this.assignments = `${root}/assignments/`;
    this.partitions = `${root}/partitions/`;
    this.producerIdBlock = `${root}/producer-id-block`;
    this.scramCredentials = `${root}/security/scram-credentials`;
    this.acls = `${root}/security/acls`;
    this.clusterId = `${root}/cluster-id`;
  }

  broker(nodeId: number): string {
    return `${this.brokers}${nodeId}`;
  }

  topic(name: string): string {
    return `${this.topics}${name}`;
  }

  assignment(topic: string): string {
    return `${this.assignments}${topic}`;
  }

  /** The prefix of every partition state of the topic. */
  topicPartitions(topic: string): string {
    return `${this.partitions}${topic}/`;
  }

  partition(topic: string, partition: number): string {
    return `${this.partitions}${topic}/${partition}`;
  }

  reassignment(topic: string, partition: number): string {
    return `${this.reassignments}${topic}/${partition}`;
  }

  election(id: string): string {
    return `${this.elections}${id}`;
  }

  /** The node id of a broker key, or null for a key that is not one. */
  brokerIdOf(key: string): number | null {
    if (!key.startsWith(this.brokers)) return null;
    const rest = key.slice(this.brokers.length);
    return /^\d+$/.test(rest) ? Number(rest) : null;
  }

  topicOf(key: string, prefix: string): string | null {
    if (!key.startsWith(prefix)) return null;
    const rest = key.slice(prefix.length);
    return rest.length > 0 && !rest.includes('/') ? rest : null;
  }

  partitionOf(key: string, prefix = this.partitions): PartitionKey | null {
    if (!key.startsWith(prefix)) return null;
    const rest = key.slice(prefix.length);
    const slash = rest.lastIndexOf('/');
    const number = rest.slice(slash + 1);
    if (slash <= 0 || !/^\d+$/.test(number)) return null;
    return { topic: rest.slice(0, slash), partition: Number(number) };
  }
}

export function partitionId(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}
