// PLACEHOLDER, replaced by the consumer-groups work: the broker-side group coordinator.
// The broker constructs it with GroupCoordinator.open(logs, options) and routes the
// group APIs to these methods.

import type { LogManager } from '../storage/types.js';
import type { Clock } from '../util/clock.js';
import { SpoolError, Errors } from '../util/errors.js';
import type * as M from '../protocol/messages.js';

export interface GroupCoordinatorOptions {
  clock?: Clock;
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
  defaultSessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  warn?: (message: string) => void;
}

function notYet(): never {
  throw new SpoolError(Errors.UNSUPPORTED_VERSION, 'consumer groups are not implemented yet');
}

export class GroupCoordinator {
  private constructor(readonly logs: LogManager) {}

  static async open(logs: LogManager, _options: GroupCoordinatorOptions = {}): Promise<GroupCoordinator> {
    return new GroupCoordinator(logs);
  }
  async heartbeat(_request: M.ConsumerGroupHeartbeatRequest): Promise<M.ConsumerGroupHeartbeatResponse> {
    notYet();
  }
  async commitOffsets(_request: M.OffsetCommitRequest): Promise<M.OffsetCommitResponse> {
    notYet();
  }
  async fetchOffsets(_request: M.OffsetFetchRequest): Promise<M.OffsetFetchResponse> {
    notYet();
  }
  async listGroups(_request: M.ListGroupsRequest): Promise<M.ListGroupsResponse> {
    notYet();
  }
  async describeGroups(_request: M.DescribeGroupsRequest): Promise<M.DescribeGroupsResponse> {
    notYet();
  }
  async deleteGroups(_request: M.DeleteGroupsRequest): Promise<M.DeleteGroupsResponse> {
    notYet();
  }
  async resetOffsets(_request: M.ResetOffsetsRequest): Promise<M.ResetOffsetsResponse> {
    notYet();
  }
  async close(): Promise<void> {}
}
