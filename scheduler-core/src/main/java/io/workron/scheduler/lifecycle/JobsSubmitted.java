package io.workron.scheduler.lifecycle;

/**
 * Published inside the transaction that stored new jobs; the dispatch loop looks again after the
 * commit, as it does for {@link JobTransitions.JobsMoved}.
 */
public record JobsSubmitted(int count) {}
