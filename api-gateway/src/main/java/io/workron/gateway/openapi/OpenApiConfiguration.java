package io.workron.gateway.openapi;

import io.swagger.v3.core.converter.ModelConverters;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.headers.Header;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.info.License;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import io.swagger.v3.oas.models.servers.Server;
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
        .components(components);
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

  static ApiResponse problem(String description) {
    return new ApiResponse()
        .description(description)
        .content(
            new Content()
                .addMediaType(
                    PROBLEM_JSON, new MediaType().schema(new Schema<>().$ref(PROBLEM_REF))));
  }
}
