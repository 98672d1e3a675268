package io.workron.scheduler.liveness;

import io.workron.schemas.Topics;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.utils.Utils;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

/**
 * Which partition of the results topic a job's results land on: workers key results by job id, and
 * Kafka's default partitioner maps a key to {@code murmur2(key) mod partitions}.
 */
@Component
class ResultPartitions {

  private final KafkaTemplate<String, byte[]> kafka;
  private final Topics topics;
  private volatile int partitions;

  ResultPartitions(KafkaTemplate<String, byte[]> kafka, Topics topics) {
    this.kafka = kafka;
    this.topics = topics;
  }

  int of(String jobId) {
    int n = partitions;
    if (n == 0) {
      n = kafka.partitionsFor(topics.results()).size();
      partitions = n;
    }
    return Utils.toPositive(Utils.murmur2(jobId.getBytes(StandardCharsets.UTF_8))) % n;
  }
}
