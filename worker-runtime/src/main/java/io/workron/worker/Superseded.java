package io.workron.worker;

/**
 * A newer incarnation of this worker's id has taken over (a second process started with the same
 * id, or this one was thought dead and restarted elsewhere): this process must stop taking work.
 *
 * @param reason what told it so
 */
public record Superseded(String reason) {}
