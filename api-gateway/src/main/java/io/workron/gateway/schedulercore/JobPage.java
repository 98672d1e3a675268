package io.workron.gateway.schedulercore;

import tools.jackson.databind.JsonNode;

/**
 * One page of {@code GET /internal/jobs}: the jobs (a JSON array, already in the public shape) and
 * the opaque cursor of the next page, null on the last one.
 */
public record JobPage(JsonNode jobs, String nextCursor) {}
