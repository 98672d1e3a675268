package io.workron.gateway.http;

/**
 * One thing wrong with a request, named the way the client wrote it ({@code resources.vram_mb},
 * {@code status}, {@code Idempotency-Key}).
 */
public record FieldProblem(String field, String detail) {}
