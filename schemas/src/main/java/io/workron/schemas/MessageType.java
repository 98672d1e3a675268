package io.workron.schemas;

import java.util.List;
import java.util.Optional;

/**
 * One kind of message on the wire: its logical type name (with version), its payload record, and
 * the schema and example shipped in this module.
 */
public final class MessageType<P> {

  public static final MessageType<JobSubmission> JOB_SUBMITTED =
      new MessageType<>(JobSubmission.TYPE, JobSubmission.class, "job-submitted.v1");
  public static final MessageType<WorkerHeartbeat> WORKER_HEARTBEAT =
      new MessageType<>(WorkerHeartbeat.TYPE, WorkerHeartbeat.class, "worker-heartbeat.v1");
  public static final MessageType<JobDispatch> JOB_DISPATCH =
      new MessageType<>(JobDispatch.TYPE, JobDispatch.class, "job-dispatch.v1");
  public static final MessageType<JobResult> JOB_RESULT =
      new MessageType<>(JobResult.TYPE, JobResult.class, "job-result.v1");
  public static final MessageType<JobEvent> JOB_EVENT =
      new MessageType<>(JobEvent.TYPE, JobEvent.class, "job-event.v1");
  public static final MessageType<PartitionTick> PARTITION_TICK =
      new MessageType<>(PartitionTick.TYPE, PartitionTick.class, "partition-tick.v1");

  public static final MessageType<WorkerControl> WORKER_CONTROL =
      new MessageType<>(WorkerControl.TYPE, WorkerControl.class, "worker-control.v1");

  public static final MessageType<JobStop> JOB_STOP =
      new MessageType<>(JobStop.TYPE, JobStop.class, "job-stop.v1");

  public static final MessageType<JobCancel> JOB_CANCEL =
      new MessageType<>(JobCancel.TYPE, JobCancel.class, "job-cancel.v1");

  public static final MessageType<JobOutput> JOB_OUTPUT =
      new MessageType<>(JobOutput.TYPE, JobOutput.class, "job-output.v1");

  public static final MessageType<GangEvent> GANG_EVENT =
      new MessageType<>(GangEvent.TYPE, GangEvent.class, "gang-event.v1");

  public static final MessageType<JobCheckpoint> JOB_CHECKPOINT =
      new MessageType<>(JobCheckpoint.TYPE, JobCheckpoint.class, "job-checkpoint.v1");

  private static final List<MessageType<?>> ALL =
      List.of(
          JOB_SUBMITTED,
          WORKER_HEARTBEAT,
          JOB_DISPATCH,
          JOB_RESULT,
          JOB_EVENT,
          PARTITION_TICK,
          WORKER_CONTROL,
          JOB_STOP,
          JOB_CANCEL,
          JOB_OUTPUT,
          GANG_EVENT,
          JOB_CHECKPOINT);

  private final String name;
  private final Class<P> payloadClass;
  private final String fileStem;

  private MessageType(String name, Class<P> payloadClass, String fileStem) {
    this.name = name;
    this.payloadClass = payloadClass;
    this.fileStem = fileStem;
  }

  public static List<MessageType<?>> all() {
    return ALL;
  }

  public static Optional<MessageType<?>> byName(String name) {
    return ALL.stream().filter(t -> t.name.equals(name)).findFirst();
  }

  /** The logical name written in the envelope's {@code type}, e.g. {@code job.submitted.v1}. */
  public String name() {
    return name;
  }

  public Class<P> payloadClass() {
    return payloadClass;
  }

  /** Classpath location of the JSON Schema. */
  public String schemaResource() {
    return "/schemas/" + fileStem + ".schema.json";
  }

  /** Classpath location of the example document. */
  public String exampleResource() {
    return "/examples/" + fileStem + ".json";
  }

  @Override
  public String toString() {
    return name;
  }
}
