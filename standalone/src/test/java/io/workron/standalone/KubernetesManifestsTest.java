package io.workron.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.kubernetes.client.custom.IntOrString;
import io.kubernetes.client.custom.Quantity;
import io.kubernetes.client.openapi.JSON;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1ContainerPort;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1EnvVar;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1PodDisruptionBudget;
import io.kubernetes.client.openapi.models.V1PodSecurityContext;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1PodTemplateSpec;
import io.kubernetes.client.openapi.models.V1Probe;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.openapi.models.V1SecurityContext;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServicePort;
import io.kubernetes.client.openapi.models.V1StatefulSet;
import io.kubernetes.client.openapi.models.V2HorizontalPodAutoscaler;
import java.io.IOException;
import java.lang.reflect.Method;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.convert.DurationStyle;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Renders {@code k8s/} with a real kustomize (the pinned kubectl that {@code scripts/test-tools.sh}
 * installs; {@code ./mvnw verify} runs it) and checks every object against the Kubernetes API
 * models of client-java, which reject unknown fields, missing required fields and wrong types; then
 * checks that the objects fit together and fit the services (ports, probes, environment, users),
 * since CI has no cluster to apply them to.
 */
class KubernetesManifestsTest {

  /** The API kinds the manifests may use: core kinds only, every one of which is checked. */
  private static final Map<String, Class<?>> KINDS =
      Map.of(
          "v1/Namespace", V1Namespace.class,
          "v1/ConfigMap", V1ConfigMap.class,
          "v1/Secret", V1Secret.class,
          "v1/Service", V1Service.class,
          "apps/v1/Deployment", V1Deployment.class,
          "apps/v1/StatefulSet", V1StatefulSet.class,
          "policy/v1/PodDisruptionBudget", V1PodDisruptionBudget.class,
          "autoscaling/v2/HorizontalPodAutoscaler", V2HorizontalPodAutoscaler.class);

  /** Workron's images, and the module each one runs. */
  private static final Map<String, String> IMAGES =
      Map.of(
          "workron/scheduler-core", "scheduler-core",
          "workron/api-gateway", "api-gateway",
          "workron/worker-runtime", "worker-runtime");

  /**
   * The Secrets prod expects to exist, with their keys; k8s/README.md must say how to make them.
   */
  private static final Map<String, Set<String>> EXTERNAL_SECRETS =
      Map.of(
          "workron-kafka", Set.of("bootstrap-servers", "username", "password"),
          "workron-postgres", Set.of("jdbc-url", "username", "password"),
          "workron-auth", Set.of("admin-token-sha256", "internal-api-token"));

  private static Path root;

  /** Per kustomization (base, dev, prod), its rendered objects as JSON, in order. */
  private static final Map<String, List<JsonObject>> rendered = new TreeMap<>();

  private static final Map<String, ComposeFileTest.ReadKeys> readKeys = new TreeMap<>();

  @BeforeAll
  static void render() throws Exception {
    root = ComposeFileTest.repositoryRoot();
    Path kubectl =
        Path.of(System.getProperty("workron.tools.dir", root.resolve(".tools").toString()))
            .resolve("bin")
            .resolve("kubectl");
    if (!Files.isExecutable(kubectl)) {
      fail(
          "no kubectl at %s: run scripts/test-tools.sh (./mvnw verify runs it before the tests)",
          kubectl);
    }
    rendered.put("base", kustomize(kubectl, root.resolve("k8s/base")));
    try (Stream<Path> overlays = Files.list(root.resolve("k8s/overlays"))) {
      for (Path overlay : overlays.filter(Files::isDirectory).sorted().toList()) {
        rendered.put(overlay.getFileName().toString(), kustomize(kubectl, overlay));
      }
    }
    for (String module : IMAGES.values()) {
      readKeys.put(
          module, ComposeFileTest.ReadKeys.of(module, ComposeFileTest.MODULE_PACKAGES.get(module)));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // rendering and the API models

  @Test
  void theBaseAndTheDevAndProdOverlaysRender() {
    assertThat(rendered).containsKeys("base", "dev", "prod");
    rendered.forEach(
        (name, objects) -> assertThat(objects).as("objects rendered from %s", name).isNotEmpty());
  }

  @Test
  void everyRenderedObjectIsAValidObjectOfACoreApiKind() {
    List<String> problems = new ArrayList<>();
    rendered.forEach(
        (name, objects) -> {
          for (JsonObject object : objects) {
            String what = name + ": " + describe(object);
            Class<?> model = KINDS.get(apiKind(object));
            if (model == null) {
              problems.add(what + " is not one of the core API kinds " + KINDS.keySet());
              continue;
            }
            try {
              validate(model, object);
            } catch (Exception e) {
              problems.add(what + ": " + e.getMessage());
            }
          }
        });
    assertThat(problems).as("objects the Kubernetes API would refuse").isEmpty();
  }

  @Test
  void theModelsRefuseUnknownFieldsMissingRequiredFieldsAndWrongTypes() {
    // guards the check above: it must be able to fail
    JsonObject deployment = object("dev", "Deployment", "scheduler-core");
    JsonObject unknown = deployment.deepCopy();
    container(unknown).addProperty("imagePullPolcy", "Always");
    assertThatThrownBy(() -> validate(V1Deployment.class, unknown))
        .hasMessageContaining("imagePullPolcy");
    JsonObject missing = deployment.deepCopy();
    container(missing).remove("name");
    assertThatThrownBy(() -> validate(V1Deployment.class, missing)).hasMessageContaining("name");
    JsonObject wrongType = deployment.deepCopy();
    wrongType.getAsJsonObject("spec").add("template", new JsonPrimitive("a pod"));
    assertThatThrownBy(() -> validate(V1Deployment.class, wrongType)).isNotNull();
  }

  // ---------------------------------------------------------------------------------------------
  // the shape the issue asks for

  @Test
  void theBaseRunsTwoSchedulerReplicasAGatewayBehindAServiceAndWorkersAsAStatefulSet() {
    V1Deployment scheduler = typed("base", V1Deployment.class, "scheduler-core");
    assertThat(scheduler.getSpec().getReplicas()).isEqualTo(2);
    V1Deployment gateway = typed("base", V1Deployment.class, "api-gateway");
    assertThat(servicesSelecting("base", gateway.getSpec().getTemplate()))
        .as("a Service in front of api-gateway")
        .isNotEmpty();

    V1StatefulSet workers = typed("base", V1StatefulSet.class, "worker");
    V1Container worker = workron(workers.getSpec().getTemplate()).get(0);
    V1EnvVar id = env(worker, "WORKRON_WORKER_ID");
    assertThat(id.getValueFrom().getFieldRef().getFieldPath())
        .as("a worker's id is its pod's stable name")
        .isEqualTo("metadata.name");
    V1Service headless = typed("base", V1Service.class, workers.getSpec().getServiceName());
    assertThat(headless.getSpec().getClusterIP())
        .as("the StatefulSet's serviceName is a headless Service")
        .isEqualTo("None");
    assertThat(selects(headless.getSpec().getSelector(), workers.getSpec().getTemplate())).isTrue();
    assertThat(env(worker, "WORKRON_WORKER_EXEC_ADDR").getValue())
        .as("gang peers reach a worker by its name under the headless Service")
        .isEqualTo("$(WORKRON_WORKER_ID)." + headless.getMetadata().getName());
  }

  @Test
  void everyEnvironmentVariableOnAWorkronContainerIsAPropertyItsServiceReads() {
    List<String> unread = new ArrayList<>();
    forEachWorkronContainer(
        (overlay, workload, container, module) -> {
          for (V1EnvVar variable : nullSafe(container.getEnv())) {
            if (!readKeys.get(module).reads(variable.getName())) {
              unread.add(overlay + ": " + workload + " sets " + variable.getName());
            }
          }
        });
    assertThat(unread).as("environment variables no property of the service matches").isEmpty();
  }

  @Test
  void everySecretAndConfigMapAWorkloadReadsIsRenderedOrDocumentedWithTheKeyItReads()
      throws IOException {
    String readme = Files.readString(root.resolve("k8s/README.md"));
    List<String> problems = new ArrayList<>();
    rendered.forEach(
        (overlay, objects) -> {
          if (overlay.equals("base")) {
            return; // the base leaves its Secrets to the overlays
          }
          for (Workload w : workloads(overlay)) {
            for (V1Container c : w.template().getSpec().getContainers()) {
              for (V1EnvVar v : nullSafe(c.getEnv())) {
                if (v.getValueFrom() == null) {
                  continue;
                }
                var secret = v.getValueFrom().getSecretKeyRef();
                var configMap = v.getValueFrom().getConfigMapKeyRef();
                String where = overlay + ": " + w.name() + " " + v.getName();
                if (secret != null) {
                  V1Secret found = find(overlay, V1Secret.class, secret.getName());
                  if (found != null) {
                    if (found.getData() == null || !found.getData().containsKey(secret.getKey())) {
                      problems.add(
                          where
                              + ": Secret "
                              + secret.getName()
                              + " has no key "
                              + secret.getKey());
                    }
                  } else if (!EXTERNAL_SECRETS
                          .getOrDefault(secret.getName(), Set.of())
                          .contains(secret.getKey())
                      || !readme.contains(secret.getName())
                      || !readme.contains(secret.getKey())) {
                    problems.add(
                        where
                            + ": Secret "
                            + secret.getName()
                            + " key "
                            + secret.getKey()
                            + " is neither rendered nor documented in k8s/README.md");
                  }
                }
                if (configMap != null) {
                  V1ConfigMap found = find(overlay, V1ConfigMap.class, configMap.getName());
                  if (found == null
                      || found.getData() == null
                      || !found.getData().containsKey(configMap.getKey())) {
                    problems.add(
                        where
                            + ": no ConfigMap "
                            + configMap.getName()
                            + " with key "
                            + configMap.getKey());
                  }
                }
              }
            }
          }
        });
    assertThat(problems).isEmpty();
  }

  @Test
  void probesAskTheActuatorHealthGroupsOnThePortEachServiceListensOn() {
    List<String> problems = new ArrayList<>();
    forEachWorkronContainer(
        (overlay, workload, container, module) -> {
          int port = Integer.parseInt(readKeys.get(module).valueOf("server.port"));
          String where = overlay + ": " + workload;
          List<Integer> ports =
              nullSafe(container.getPorts()).stream()
                  .map(V1ContainerPort::getContainerPort)
                  .toList();
          if (!ports.equals(List.of(port))) {
            problems.add(
                where + " declares ports " + ports + ", " + module + " listens on " + port);
          }
          checkProbe(
              problems,
              where + " startupProbe",
              container.getStartupProbe(),
              container,
              port,
              "liveness");
          checkProbe(
              problems,
              where + " livenessProbe",
              container.getLivenessProbe(),
              container,
              port,
              "liveness");
          checkProbe(
              problems,
              where + " readinessProbe",
              container.getReadinessProbe(),
              container,
              port,
              "readiness");
        });
    assertThat(problems).isEmpty();
  }

  @Test
  void everyWorkronContainerLogsJsonLinesInEveryOverlay() {
    List<String> problems = new ArrayList<>();
    forEachWorkronContainer(
        (overlay, workload, container, module) -> {
          var ref = env(container, "LOGGING_STRUCTURED_FORMAT_CONSOLE").getValueFrom();
          String format =
              ref == null || ref.getConfigMapKeyRef() == null
                  ? env(container, "LOGGING_STRUCTURED_FORMAT_CONSOLE").getValue()
                  : typed(overlay, V1ConfigMap.class, ref.getConfigMapKeyRef().getName())
                      .getData()
                      .get(ref.getConfigMapKeyRef().getKey());
          if (!"ecs".equals(format)) {
            problems.add(overlay + ": " + workload + " logs as " + format + ", not ecs");
          }
        });
    assertThat(problems).isEmpty();
  }

  @Test
  void servicesDisruptionBudgetsAndTheAutoscalerPointAtWorkloadsThatExist() {
    List<String> problems = new ArrayList<>();
    rendered.forEach(
        (overlay, objects) -> {
          for (V1Service service : all(overlay, V1Service.class)) {
            List<Workload> selected =
                workloads(overlay).stream()
                    .filter(w -> selects(service.getSpec().getSelector(), w.template()))
                    .toList();
            if (selected.size() != 1) {
              problems.add(overlay + ": Service " + name(service) + " selects " + selected);
              continue;
            }
            for (V1ServicePort p : service.getSpec().getPorts()) {
              if (containerPort(selected.get(0).template(), p.getTargetPort()) == null) {
                problems.add(
                    overlay
                        + ": Service "
                        + name(service)
                        + " targets "
                        + p.getTargetPort()
                        + ", which "
                        + selected.get(0).name()
                        + " does not declare");
              }
            }
          }
          for (V1PodDisruptionBudget pdb : all(overlay, V1PodDisruptionBudget.class)) {
            Map<String, String> labels = pdb.getSpec().getSelector().getMatchLabels();
            if (workloads(overlay).stream().noneMatch(w -> selects(labels, w.template()))) {
              problems.add(overlay + ": PodDisruptionBudget " + name(pdb) + " selects no pods");
            }
          }
          for (V2HorizontalPodAutoscaler hpa : all(overlay, V2HorizontalPodAutoscaler.class)) {
            var target = hpa.getSpec().getScaleTargetRef();
            if (workloads(overlay).stream()
                .noneMatch(
                    w -> w.kind().equals(target.getKind()) && w.name().equals(target.getName()))) {
              problems.add(overlay + ": the autoscaler " + name(hpa) + " scales nothing rendered");
            }
          }
        });
    assertThat(problems).isEmpty();
    // every Workron workload has a disruption budget
    for (String overlay : rendered.keySet()) {
      for (Workload w : workloads(overlay)) {
        if (!workron(w.template()).isEmpty()) {
          assertThat(all(overlay, V1PodDisruptionBudget.class))
              .as("%s: a PodDisruptionBudget for %s", overlay, w.name())
              .anyMatch(p -> selects(p.getSpec().getSelector().getMatchLabels(), w.template()));
        }
      }
    }
  }

  @Test
  void workronPodsRunAsTheImagesNonRootUserOnAReadOnlyRootWithWritableScratchSpace()
      throws IOException {
    List<String> problems = new ArrayList<>();
    Map<String, List<String>> dockerfiles = new LinkedHashMap<>();
    for (String module : IMAGES.values()) {
      dockerfiles.put(
          module,
          ComposeFileTest.dockerfileInstructions(root.resolve(module).resolve("Dockerfile")));
    }
    forEachWorkronContainer(
        (overlay, workload, container, module) -> {
          String where = overlay + ": " + workload;
          List<String> lines = dockerfiles.get(module);
          List<String> users = ComposeFileTest.instruction(lines, "USER");
          String uid = users.get(users.size() - 1).split(":")[0];
          V1PodSpec pod = pod(overlay, workload);
          V1PodSecurityContext podSecurity = pod.getSecurityContext();
          if (podSecurity == null
              || !Boolean.TRUE.equals(podSecurity.getRunAsNonRoot())
              || !uid.equals(String.valueOf(podSecurity.getRunAsUser()))) {
            problems.add(where + " must run as non-root user " + uid + ", the image's USER");
          }
          if (!Boolean.FALSE.equals(pod.getAutomountServiceAccountToken())) {
            problems.add(where + " mounts a service account token it never uses");
          }
          V1SecurityContext security = container.getSecurityContext();
          if (security == null
              || !Boolean.TRUE.equals(security.getReadOnlyRootFilesystem())
              || !Boolean.FALSE.equals(security.getAllowPrivilegeEscalation())
              || security.getCapabilities() == null
              || !List.of("ALL").equals(security.getCapabilities().getDrop())) {
            problems.add(
                where
                    + " needs readOnlyRootFilesystem, no privilege escalation, capabilities ALL dropped");
          }
          List<String> mounts =
              nullSafe(container.getVolumeMounts()).stream().map(m -> m.getMountPath()).toList();
          List<String> writable = new ArrayList<>(List.of("/tmp"));
          if (module.equals("worker-runtime")) {
            // jobs run, and the worker keeps its state, in the image's WORKDIR
            List<String> workdir = ComposeFileTest.instruction(lines, "WORKDIR");
            writable.add(workdir.get(workdir.size() - 1));
          }
          if (!mounts.containsAll(writable)) {
            problems.add(where + " mounts " + mounts + ", but must write to " + writable);
          }
        });
    assertThat(problems).isEmpty();
  }

  @Test
  void everyContainerHasCpuAndMemoryRequestsAndLimits() {
    List<String> problems = new ArrayList<>();
    rendered.forEach(
        (overlay, objects) -> {
          for (Workload w : workloads(overlay)) {
            for (V1Container c : w.template().getSpec().getContainers()) {
              var r = c.getResources();
              Map<String, Quantity> requests = r == null ? null : r.getRequests();
              Map<String, Quantity> limits = r == null ? null : r.getLimits();
              for (String resource : List.of("cpu", "memory")) {
                if (requests == null
                    || limits == null
                    || !requests.containsKey(resource)
                    || !limits.containsKey(resource)) {
                  problems.add(
                      overlay + ": " + w.name() + "/" + c.getName() + " lacks " + resource);
                } else if (requests
                        .get(resource)
                        .getNumber()
                        .compareTo(limits.get(resource).getNumber())
                    > 0) {
                  problems.add(
                      overlay + ": " + w.name() + " requests more " + resource + " than its limit");
                }
              }
            }
          }
        });
    assertThat(problems).isEmpty();
  }

  @Test
  void workersAreGivenLongerToStopThanTheirGracefulShutdownTakes() {
    for (String overlay : rendered.keySet()) {
      V1StatefulSet workers = typed(overlay, V1StatefulSet.class, "worker");
      V1Container worker = workron(workers.getSpec().getTemplate()).get(0);
      Duration deadline =
          workerSetting(
              worker, "WORKRON_WORKER_SHUTDOWN_DEADLINE", "workron.worker.shutdown-deadline");
      Duration grace =
          workerSetting(worker, "WORKRON_WORKER_STOP_GRACE", "workron.worker.stop-grace");
      long allowed = workers.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds();
      assertThat(Duration.ofSeconds(allowed))
          .as(
              "%s: terminationGracePeriodSeconds against shutdown-deadline %s + stop-grace %s",
              overlay, deadline, grace)
          .isGreaterThan(deadline.plus(grace));
      assertThat(workers.getSpec().getTemplate().getSpec().getShareProcessNamespace())
          .as("%s: a PID 1 that reaps the orphans of jobs (shareProcessNamespace)", overlay)
          .isTrue();
    }
  }

  @Test
  void theGatewayAsksForTokensAndBothSidesOfTheInternalApiShareOneSecretKey() throws Exception {
    for (String overlay : rendered.keySet()) {
      V1Container gateway =
          workron(typed(overlay, V1Deployment.class, "api-gateway").getSpec().getTemplate()).get(0);
      V1Container scheduler =
          workron(typed(overlay, V1Deployment.class, "scheduler-core").getSpec().getTemplate())
              .get(0);
      assertThat(nullSafe(gateway.getEnv()).stream().map(V1EnvVar::getName))
          .as("%s: the gateway keeps authentication on", overlay)
          .doesNotContain("WORKRON_AUTH_ENABLED");
      assertThat(env(gateway, "WORKRON_AUTH_TOKENS_0_SCOPES").getValue()).isEqualTo("admin");
      var hash = env(gateway, "WORKRON_AUTH_TOKENS_0_SHA256").getValueFrom().getSecretKeyRef();
      assertThat(baseName(hash.getName())).isEqualTo("workron-auth");
      assertThat(env(gateway, "WORKRON_INTERNAL_API_TOKEN").getValueFrom().getSecretKeyRef())
          .as("%s: the gateway sends what scheduler-core asks for", overlay)
          .isEqualTo(env(scheduler, "WORKRON_INTERNAL_API_TOKEN").getValueFrom().getSecretKeyRef());
      if (overlay.equals("dev")) {
        // the published dev token is the one whose hash dev configures
        assertThat(secretValue("dev", "workron-auth", hash.getKey()))
            .isEqualTo(
                java.util.HexFormat.of()
                    .formatHex(
                        java.security.MessageDigest.getInstance("SHA-256")
                            .digest(
                                "wrk_dev-only-admin-token-do-not-use-elsewhere"
                                    .getBytes(StandardCharsets.UTF_8))));
      }
    }
  }

  @Test
  void theGatewaysSchedulerUrlIsTheSchedulerCoreServiceAndItsPort() {
    for (String overlay : rendered.keySet()) {
      V1Container gateway =
          workron(typed(overlay, V1Deployment.class, "api-gateway").getSpec().getTemplate()).get(0);
      URI url = URI.create(env(gateway, "WORKRON_GATEWAY_SCHEDULER_URL").getValue());
      V1Service service = typed(overlay, V1Service.class, url.getHost());
      V1PodTemplateSpec scheduler =
          typed(overlay, V1Deployment.class, "scheduler-core").getSpec().getTemplate();
      assertThat(selects(service.getSpec().getSelector(), scheduler))
          .as("%s: Service %s selects scheduler-core's pods", overlay, url.getHost())
          .isTrue();
      V1ServicePort port =
          service.getSpec().getPorts().stream()
              .filter(p -> p.getPort() == url.getPort())
              .findFirst()
              .orElseGet(
                  () ->
                      fail("%s: Service %s has no port %d", overlay, url.getHost(), url.getPort()));
      assertThat(containerPort(scheduler, port.getTargetPort()))
          .isEqualTo(Integer.parseInt(readKeys.get("scheduler-core").valueOf("server.port")));
    }
  }

  @Test
  void devRunsItsOwnKafkaAndPostgresAndPointsWorkronAtThem() {
    String bootstrap = secretValue("dev", "workron-kafka", "bootstrap-servers");
    V1StatefulSet kafka = typed("dev", V1StatefulSet.class, "kafka");
    V1Container broker = kafka.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(broker.getImage()).isEqualTo("apache/kafka:4.1.1");
    assertThat(env(broker, "KAFKA_PROCESS_ROLES").getValue()).isEqualTo("broker,controller");
    assertThat(env(broker, "KAFKA_ADVERTISED_LISTENERS").getValue())
        .as("the broker advertises the address Workron bootstraps from")
        .contains("://" + bootstrap);
    URI kafkaAddress = URI.create("kafka://" + bootstrap);
    assertServiceReaches(
        "dev", kafkaAddress.getHost(), kafkaAddress.getPort(), kafka.getSpec().getTemplate());

    URI jdbc =
        URI.create(secretValue("dev", "workron-postgres", "jdbc-url").substring("jdbc:".length()));
    V1StatefulSet postgres = typed("dev", V1StatefulSet.class, "postgres");
    V1Container server = postgres.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(server.getImage()).isEqualTo("postgres:17");
    assertServiceReaches("dev", jdbc.getHost(), jdbc.getPort(), postgres.getSpec().getTemplate());
    assertThat(jdbc.getPath()).isEqualTo("/" + env(server, "POSTGRES_DB").getValue());
    var user = env(server, "POSTGRES_USER").getValueFrom().getSecretKeyRef();
    assertThat(baseName(user.getName()) + "/" + user.getKey())
        .as("PostgreSQL's user is the one Workron connects as")
        .isEqualTo("workron-postgres/username");

    // the scheduler's short consumer session is one this broker accepts (docs/decisions.md)
    V1Container scheduler =
        workron(typed("dev", V1Deployment.class, "scheduler-core").getSpec().getTemplate()).get(0);
    int session =
        Integer.parseInt(
            env(scheduler, "SPRING_KAFKA_CONSUMER_PROPERTIES_SESSION_TIMEOUT_MS").getValue());
    int heartbeat =
        Integer.parseInt(
            env(scheduler, "SPRING_KAFKA_CONSUMER_PROPERTIES_HEARTBEAT_INTERVAL_MS").getValue());
    int minimum = Integer.parseInt(env(broker, "KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS").getValue());
    assertThat(session).isBetween(minimum, 4999);
    assertThat(heartbeat * 3).isLessThanOrEqualTo(session);
  }

  @Test
  void devsBrokerRunsComposesTestedStartScriptAndAsksEveryWorkronContainerForItsScramUser()
      throws Exception {
    V1StatefulSet kafka = typed("dev", V1StatefulSet.class, "kafka");
    V1Container broker = kafka.getSpec().getTemplate().getSpec().getContainers().get(0);
    // the start script that formats the log directory with the SCRAM user is the one
    // ComposeKafkaIT runs (compose writes $$ for the shell's $)
    Map<String, Object> compose;
    try (var reader = Files.newBufferedReader(root.resolve("docker-compose.yml"))) {
      compose = new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
    }
    @SuppressWarnings("unchecked")
    Map<String, Map<String, Object>> services =
        (Map<String, Map<String, Object>>) compose.get("services");
    List<?> composeCommand = (List<?>) services.get("kafka").get("command");
    assertThat(broker.getCommand())
        .isEqualTo(
            List.of(
                composeCommand.get(0).toString(),
                composeCommand.get(1).toString(),
                composeCommand.get(2).toString().replace("$$", "$")));

    Map<String, String> env = new LinkedHashMap<>();
    nullSafe(broker.getEnv()).forEach(v -> env.put(v.getName(), v.getValue()));
    Properties server = ComposeKafkaIT.serverProperties(env);
    assertThat(server.getProperty("listeners"))
        .as("the controller takes no login, so it listens on loopback only")
        .contains("CONTROLLER://localhost:");
    assertThat(server.getProperty("listener.security.protocol.map"))
        .isEqualTo("INTERNAL:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT");
    assertThat(server.getProperty("sasl.enabled.mechanisms")).isEqualTo("SCRAM-SHA-512");
    assertThat(server.getProperty("listener.name.internal.scram-sha-512.sasl.jaas.config"))
        .isEqualTo(
            "org.apache.kafka.common.security.scram.ScramLoginModule required"
                + " username=\"$(WORKRON_KAFKA_USERNAME)\" password=\"$(WORKRON_KAFKA_PASSWORD)\";");
    // $(...) is expanded from variables defined before it, which come from the Secret every
    // Workron container logs in with
    List<String> names = nullSafe(broker.getEnv()).stream().map(V1EnvVar::getName).toList();
    assertThat(names.indexOf("WORKRON_KAFKA_PASSWORD"))
        .isBetween(
            0, names.indexOf("KAFKA_LISTENER_NAME_INTERNAL_SCRAM___SHA___512_SASL_JAAS_CONFIG"));
    for (String variable : List.of("WORKRON_KAFKA_USERNAME", "WORKRON_KAFKA_PASSWORD")) {
      var brokers = env(broker, variable).getValueFrom().getSecretKeyRef();
      forEachWorkronContainer(
          (overlay, workload, container, module) -> {
            var ref = env(container, variable).getValueFrom().getSecretKeyRef();
            assertThat(baseName(ref.getName()) + "/" + ref.getKey())
                .as("%s: %s's %s", overlay, workload, variable)
                .isEqualTo(
                    "workron-kafka/" + (variable.endsWith("USERNAME") ? "username" : "password"));
            if (overlay.equals("dev")) {
              assertThat(ref.getName()).isEqualTo(brokers.getName());
              assertThat(ref.getKey()).isEqualTo(brokers.getKey());
            }
          });
    }
    assertThat(secretValue("dev", "workron-kafka", "password")).isNotBlank();
  }

  @Test
  void prodRunsThreeSchedulersFromPinnedImagesAndLetsAnAutoscalerSizeTheWorkers() {
    assertThat(typed("prod", V1Deployment.class, "scheduler-core").getSpec().getReplicas())
        .isEqualTo(3);
    forEachWorkronContainer(
        (overlay, workload, container, module) -> {
          if (overlay.equals("prod")) {
            String tag = container.getImage().substring(container.getImage().lastIndexOf(':') + 1);
            assertThat(container.getImage())
                .as("prod: %s's image has a tag", workload)
                .contains(":");
            assertThat(tag).as("prod: %s's image tag", workload).isNotIn("dev", "latest");
          }
        });
    V2HorizontalPodAutoscaler hpa = all("prod", V2HorizontalPodAutoscaler.class).get(0);
    assertThat(hpa.getSpec().getScaleTargetRef().getName()).isEqualTo("worker");
    assertThat(typed("prod", V1StatefulSet.class, "worker").getSpec().getReplicas())
        .as("the autoscaler owns the workers' count; a replicas field would reset it on each apply")
        .isNull();
    assertThat(all("prod", V1Secret.class))
        .as("prod takes Kafka and PostgreSQL from Secrets made outside the repository")
        .isEmpty();
    assertThat(typed("prod", V1ConfigMap.class, "workron-config").getData())
        .containsEntry("replication-factor", "3");
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  private static List<JsonObject> kustomize(Path kubectl, Path dir) throws Exception {
    Process p =
        new ProcessBuilder(kubectl.toString(), "kustomize", dir.toString())
            .redirectErrorStream(false)
            .start();
    var err = p.getErrorStream().readAllBytes();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue())
        .as("kubectl kustomize %s: %s", dir, new String(err, StandardCharsets.UTF_8))
        .isZero();
    List<JsonObject> objects = new ArrayList<>();
    for (Object document : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(out)) {
      if (document != null) {
        objects.add(JSON.getGson().toJsonTree(document).getAsJsonObject());
      }
    }
    return objects;
  }

  private static void validate(Class<?> model, JsonObject object) throws Exception {
    Method check = model.getMethod("validateJsonElement", JsonElement.class);
    try {
      check.invoke(null, object);
    } catch (java.lang.reflect.InvocationTargetException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
    // and it reads as that type (types of nested values: quantities, int-or-string)
    JSON.getGson().fromJson(object, model);
  }

  private static String apiKind(JsonObject object) {
    return object.get("apiVersion").getAsString() + "/" + object.get("kind").getAsString();
  }

  private static String describe(JsonObject object) {
    return object.get("kind").getAsString()
        + " "
        + object.getAsJsonObject("metadata").get("name").getAsString();
  }

  private static JsonObject object(String overlay, String kind, String name) {
    return rendered.get(overlay).stream()
        .filter(o -> o.get("kind").getAsString().equals(kind))
        .filter(o -> baseName(o.getAsJsonObject("metadata").get("name").getAsString()).equals(name))
        .findFirst()
        .orElseGet(() -> fail("%s renders no %s %s", overlay, kind, name));
  }

  private static JsonObject container(JsonObject deployment) {
    JsonArray containers =
        deployment
            .getAsJsonObject("spec")
            .getAsJsonObject("template")
            .getAsJsonObject("spec")
            .getAsJsonArray("containers");
    return containers.get(0).getAsJsonObject();
  }

  private static <T> List<T> all(String overlay, Class<T> type) {
    String kind = type.getSimpleName().replaceFirst("^V\\d+", "");
    return rendered.get(overlay).stream()
        .filter(o -> o.get("kind").getAsString().equals(kind))
        .map(o -> JSON.getGson().fromJson(o, type))
        .toList();
  }

  /** The object named {@code name}, or generated from that name (kustomize adds a hash). */
  private static <T> T find(String overlay, Class<T> type, String name) {
    return all(overlay, type).stream()
        .filter(o -> name(o).equals(name) || baseName(name(o)).equals(baseName(name)))
        .findFirst()
        .orElse(null);
  }

  private static <T> T typed(String overlay, Class<T> type, String name) {
    T found = find(overlay, type, name);
    if (found == null) {
      fail("%s renders no %s named %s", overlay, type.getSimpleName(), name);
    }
    return found;
  }

  /** A generated ConfigMap's or Secret's name without the hash kustomize appends. */
  private static String baseName(String name) {
    return name.replaceFirst("-[a-z0-9]{10}$", "");
  }

  private static String name(Object object) {
    try {
      Object metadata = object.getClass().getMethod("getMetadata").invoke(object);
      return (String) metadata.getClass().getMethod("getName").invoke(metadata);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  record Workload(String kind, String name, V1PodTemplateSpec template) {
    @Override
    public String toString() {
      return kind + " " + name;
    }
  }

  private static List<Workload> workloads(String overlay) {
    List<Workload> result = new ArrayList<>();
    all(overlay, V1Deployment.class)
        .forEach(d -> result.add(new Workload("Deployment", name(d), d.getSpec().getTemplate())));
    all(overlay, V1StatefulSet.class)
        .forEach(s -> result.add(new Workload("StatefulSet", name(s), s.getSpec().getTemplate())));
    return result;
  }

  private static V1PodSpec pod(String overlay, String workload) {
    return workloads(overlay).stream()
        .filter(w -> w.toString().equals(workload))
        .findFirst()
        .orElseThrow()
        .template()
        .getSpec();
  }

  /** The containers of a pod that run one of Workron's images. */
  private static List<V1Container> workron(V1PodTemplateSpec template) {
    return template.getSpec().getContainers().stream().filter(c -> module(c) != null).toList();
  }

  private static String module(V1Container container) {
    String image = container.getImage();
    int tag = image.lastIndexOf(':');
    return IMAGES.get(tag < 0 ? image : image.substring(0, tag));
  }

  interface ContainerCheck {
    void check(String overlay, String workload, V1Container container, String module);
  }

  private static void forEachWorkronContainer(ContainerCheck check) {
    int seen = 0;
    for (String overlay : rendered.keySet()) {
      for (Workload w : workloads(overlay)) {
        for (V1Container c : workron(w.template())) {
          check.check(overlay, w.toString(), c, module(c));
          seen++;
        }
      }
    }
    assertThat(seen).as("Workron containers rendered").isGreaterThanOrEqualTo(3 * rendered.size());
  }

  private static boolean selects(Map<String, String> selector, V1PodTemplateSpec template) {
    Map<String, String> labels = template.getMetadata().getLabels();
    return selector != null
        && !selector.isEmpty()
        && labels != null
        && labels.entrySet().containsAll(selector.entrySet());
  }

  private static List<V1Service> servicesSelecting(String overlay, V1PodTemplateSpec template) {
    return all(overlay, V1Service.class).stream()
        .filter(s -> selects(s.getSpec().getSelector(), template))
        .toList();
  }

  /** The container port {@code target} names or numbers in the pod, or null. */
  private static Integer containerPort(V1PodTemplateSpec template, IntOrString target) {
    return template.getSpec().getContainers().stream()
        .flatMap(c -> nullSafe(c.getPorts()).stream())
        .filter(
            p ->
                target.isInteger()
                    ? Objects.equals(p.getContainerPort(), target.getIntValue())
                    : target.getStrValue().equals(p.getName()))
        .map(V1ContainerPort::getContainerPort)
        .findFirst()
        .orElse(null);
  }

  private static void assertServiceReaches(
      String overlay, String host, int port, V1PodTemplateSpec template) {
    V1Service service = typed(overlay, V1Service.class, host);
    assertThat(selects(service.getSpec().getSelector(), template))
        .as("%s: Service %s selects the pods it should reach", overlay, host)
        .isTrue();
    V1ServicePort servicePort =
        service.getSpec().getPorts().stream()
            .filter(p -> p.getPort() == port)
            .findFirst()
            .orElseGet(() -> fail("%s: Service %s has no port %d", overlay, host, port));
    assertThat(containerPort(template, servicePort.getTargetPort())).isNotNull();
  }

  private static void checkProbe(
      List<String> problems,
      String where,
      V1Probe probe,
      V1Container container,
      int port,
      String group) {
    if (probe == null || probe.getHttpGet() == null) {
      problems.add(where + " is missing or not an HTTP GET");
      return;
    }
    if (!("/actuator/health/" + group).equals(probe.getHttpGet().getPath())) {
      problems.add(
          where + " asks " + probe.getHttpGet().getPath() + ", not the " + group + " group");
    }
    IntOrString target = probe.getHttpGet().getPort();
    Integer number =
        target.isInteger()
            ? target.getIntValue()
            : nullSafe(container.getPorts()).stream()
                .filter(p -> target.getStrValue().equals(p.getName()))
                .map(V1ContainerPort::getContainerPort)
                .findFirst()
                .orElse(null);
    if (!Objects.equals(number, port)) {
      problems.add(where + " asks port " + target + ", the service listens on " + port);
    }
  }

  private static V1EnvVar env(V1Container container, String name) {
    return nullSafe(container.getEnv()).stream()
        .filter(v -> v.getName().equals(name))
        .findFirst()
        .orElseGet(() -> fail("container %s has no %s", container.getName(), name));
  }

  private static Duration workerSetting(V1Container worker, String variable, String key) {
    String value =
        nullSafe(worker.getEnv()).stream()
            .filter(v -> v.getName().equals(variable))
            .map(V1EnvVar::getValue)
            .findFirst()
            .orElse(readKeys.get("worker-runtime").valueOf(key));
    return DurationStyle.detectAndParse(value);
  }

  private static String secretValue(String overlay, String secret, String key) {
    byte[] value = typed(overlay, V1Secret.class, secret).getData().get(key);
    assertThat(value).as("%s: Secret %s key %s", overlay, secret, key).isNotNull();
    return new String(value, StandardCharsets.UTF_8);
  }

  private static <T> List<T> nullSafe(List<T> list) {
    return list == null ? List.of() : list;
  }
}
