// The LogManager the broker hands to its handlers and the coordinator: storage's, with
// topic creation and deletion logged and a deleted topic's metric series dropped. Every
// path that creates or deletes a topic (native and Kafka admin requests, auto-creation,
// the coordinator's internal topic) goes through ctx.logs, so this is the one place.

import type { LogManager, TopicConfig, TopicInfo } from '../storage/types.js';
import { quoted, type Logger } from './logger.js';
import type { BrokerMetrics } from './metrics.js';

export function observedLogManager(logs: LogManager, logger: Logger, metrics: BrokerMetrics): LogManager {
  return {
    get dataDir() {
      return logs.dataDir;
    },
    get recoveryReports() {
      return logs.recoveryReports;
    },
    async createTopic(name: string, partitions: number, config?: Partial<TopicConfig>, internal?: boolean): Promise<TopicInfo> {
      const info = await logs.createTopic(name, partitions, config, internal);
      logger.info(`created topic ${quoted(name)} with ${info.partitions} partition(s)`, { event: 'topic_created', topic: name, partitions: info.partitions, internal: info.internal });
      return info;
    },
    async createPartitions(name: string, count: number): Promise<TopicInfo> {
      const info = await logs.createPartitions(name, count);
      logger.info(`topic ${quoted(name)} now has ${info.partitions} partition(s)`, { event: 'partitions_created', topic: name, partitions: info.partitions });
      return info;
    },
    async alterTopicConfig(name, changes): Promise<TopicInfo> {
      const info = await logs.alterTopicConfig(name, changes);
      const changed = Object.keys(changes).sort();
      logger.info(`altered the config of topic ${quoted(name)}: ${changed.join(', ')}`, { event: 'topic_config_altered', topic: name, configs: changed.join(',') });
      return info;
    },
    async deleteTopic(name: string): Promise<void> {
      await logs.deleteTopic(name);
      metrics.forgetTopic(name);
      logger.info(`deleted topic ${quoted(name)}`, { event: 'topic_deleted', topic: name });
    },
    deletePartition: (name, partition, stillWanted) => logs.deletePartition(name, partition, stillWanted),
    listTopics: () => logs.listTopics(),
    getTopic: (name) => logs.getTopic(name),
    getPartition: (topic, partition) => logs.getPartition(topic, partition),
    allocateProducerId: () => logs.allocateProducerId(),
    close: () => logs.close(),
  };
}
