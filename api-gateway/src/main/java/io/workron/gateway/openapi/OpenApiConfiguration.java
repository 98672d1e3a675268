package io.workron.gateway.openapi;

import io.swagger.v3.core.converter.ModelConverters;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.headers.Header;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.info.License;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import io.swagger.v3.oas.models.servers.Server;
import io.workron.gateway.security.AccessRules;
import io.workron.gateway.security.Scopes;
import io.workron.gateway.submission.SubmissionRequest;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The OpenAPI document the gateway serves at {@code /v3/api-docs} (Swagger UI at {@code
 * /swagger-ui.html}), committed as {@code api-gateway/openapi.json}. Every operation lists the
 * problems it can answer with; those every call can meet (500, and 503 when Kafka or scheduler-core
 * does not answer) are added here, the others sit on each operation.
 */
@Configuration
class OpenApiConfiguration {

  static final String BEARER = "bearer";
  static final String PROBLEM_JSON = "application/problem+json";
  static final String PROBLEM_REF = "#/components/schemas/Problem";

  @Bean
  OpenAPI workronOpenApi() {
    Components components = new Components();
    // every schema of ApiModel, whether an operation names it or not (Problem is named by ref)
    Map<String, Schema> schemas = new TreeMap<>();
    for (Class<?> type : ApiModel.class.getDeclaredClasses()) {
      schemas.putAll(ModelConverters.getInstance().readAll(type));
    }
    schemas.forEach(components::addSchemas);
    components.addSecuritySchemes(
        BEARER,
        new SecurityScheme()
            .type(SecurityScheme.Type.HTTP)
            .scheme("bearer")
            .description(
                "A token from scripts/new-token.sh whose SHA-256 the gateway is configured with."
                    + " Scopes: jobs:read (every GET), jobs:write or jobs:write:<queue> (submit,"
                    + " cancel), admin (everything)."));
    components.addHeaders(
        "WWW-Authenticate",
        new Header()
            .description("Bearer realm=\"workron\", with error=\"invalid_token\" for a bad token")
            .schema(new StringSchema()));
    components.addHeaders(
        "Retry-After",
        new Header()
            .description("seconds to wait before trying again")
            .schema(new IntegerSchema()));
    return new OpenAPI()
        .info(
            new Info()
                .title("Workron")
                .version("v1")
                .description(
                    "Workron's job API: submit shell-command jobs (alone, with dependencies, as"
                        + " gangs), follow them, cancel and retry them, and manage queues,"
                        + " schedules and workers. Compatible with the original Workron's job"
                        + " API. Errors are RFC 9457 problems that carry a request_id.")
                .license(new License().name("Apache-2.0")))
        // relative, so the document is the same whatever host and port serve it
        .servers(List.of(new Server().url("/").description("this gateway")))
        .components(components)
        .addSecurityItem(new SecurityRequirement().addList(BEARER));
  }

  /**
   * 500 on every operation, 503 (with Retry-After) on every one that needs Kafka or scheduler-core.
   */
  @Bean
  OpenApiCustomizer everyOperationsProblems() {
    return api -> {
      seedJobKeys(api.getComponents().getSchemas().get("JobSubmission"));
      api.getPaths()
          .forEach(
              (name, path) ->
                  path.readOperations()
                      .forEach(
                          op -> {
                            ApiResponses responses = op.getResponses();
                            responses.addApiResponse(
                                "500",
                                problem("an unexpected error; the log has it under request_id"));
                            String scope = AccessRules.requiredScope(method(path, op), name);
                            if (scope == null) {
                              op.setSecurity(List.of()); // open: no token needed
                            } else {
                              ApiResponse unauthorized =
                                  problem("no bearer token, or one that is not configured");
                              unauthorized.addHeaderObject(
                                  "WWW-Authenticate",
                                  new Header().$ref("#/components/headers/WWW-Authenticate"));
                              responses.addApiResponse("401", unauthorized);
                              responses.addApiResponse(
                                  "403",
                                  problem(
                                      "the token lacks the scope "
                                          + scope
                                          + (scope.equals(Scopes.WRITE)
                                              ? " (or jobs:write:<queue> for the job's queue)"
                                              : "")
                                          + "; required_scope names it"));
                            }
                            if (name.equals("/health")) {
                              return; // answered by the gateway alone
                            }
                            ApiResponse unavailable =
                                problem(
                                    "Kafka or scheduler-core did not answer; nothing was done,"
                                        + " try again after Retry-After seconds");
                            unavailable.addHeaderObject(
                                "Retry-After",
                                new Header().$ref("#/components/headers/Retry-After"));
                            responses.addApiResponse("503", unavailable);
                          }));
    };
  }

  /**
   * A job read from GET /jobs/{id} may be sent back as a submission: the seed's other job fields
   * are accepted and ignored (SubmissionRequest.SEED_JOB_KEYS). Added here, after springdoc has
   * written the schema from the operations.
   */
  private static void seedJobKeys(Schema<?> submission) {
    new TreeSet<>(SubmissionRequest.SEED_JOB_KEYS)
        .forEach(
            key ->
                submission.addProperty(
                    key, new Schema<>().description("accepted and ignored: the seed's job JSON")));
  }

  /** The HTTP method of {@code op} within {@code path}. */
  private static String method(PathItem path, Operation op) {
    return path.readOperationsMap().entrySet().stream()
        .filter(e -> e.getValue() == op)
        .map(e -> e.getKey().name())
        .findFirst()
        .orElseThrow();
  }

  static ApiResponse problem(String description) {
    return new ApiResponse()
        .description(description)
        .content(
            new Content()
                .addMediaType(
                    PROBLEM_JSON, new MediaType().schema(new Schema<>().$ref(PROBLEM_REF))));
  }
}
