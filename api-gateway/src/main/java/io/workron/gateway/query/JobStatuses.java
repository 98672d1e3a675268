package io.workron.gateway.query;

import java.util.List;

/** A job's statuses in the order people read them: waiting, running, ended. */
public final class JobStatuses {

  public static final List<String> ALL =
      List.of(
          "blocked",
          "pending",
          "reserved",
          "running",
          "preempting",
          "preempted",
          "done",
          "failed",
          "cancelled");

  private JobStatuses() {}
}
