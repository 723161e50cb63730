/**
 * The Kafka adapter: the only code in userpipe that touches @platformatic/kafka. Stages import from here.
 *
 * - `KafkaProducer` (ingest, dead letters): `send(messages, signal)` resolves once the broker acknowledged.
 * - `KafkaConsumer` (archive, process): group member with exact positions, bounded buffer, manual commits
 *   (offset = next to read = last processed + 1) and rebalance callbacks that run before partitions move.
 * - `KafkaAdmin`: ensureTopic, endOffsets, committedOffsets, consumerLag, deleteTopic.
 * - `classifyKafkaError` / `isRebalanceError`: library errors -> PipelineError with `retryable`.
 */
export { KafkaAdmin, type PartitionLag, type TopicSpec } from './kafka-admin.ts';
export {
  KafkaConsumer,
  type CommitOffset,
  type KafkaConsumerOptions,
  type PartitionPosition,
  type RevokeReason,
  type StartFrom,
  type TopicPartition,
} from './kafka-consumer.ts';
export { classifyKafkaError, isRebalanceError } from './kafka-errors.ts';
export {
  COMPRESSIONS,
  SASL_MECHANISMS,
  parseAcks,
  parseCompression,
  type Acks,
  type Compression,
  type KafkaConnectionOptions,
  type KafkaSaslOptions,
  type KafkaTlsOptions,
  type SaslMechanism,
} from './kafka-options.ts';
export { KafkaProducer, type HeadersInput, type KafkaProducerOptions, type OutgoingMessage, type SendResult } from './kafka-producer.ts';
export type { KafkaMessage } from './kafka-records.ts';
