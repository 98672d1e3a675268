package io.workron.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkerIdentityTest {

  @TempDir Path stateDir;

  @Test
  void theConfiguredIdWins() {
    assertThat(
            WorkerIdentity.resolveId(
                "gpu-7",
                Map.of("KUBERNETES_SERVICE_HOST", "10.0.0.1", "HOSTNAME", "pod-a"),
                stateDir,
                new Random()))
        .isEqualTo("gpu-7");
  }

  @Test
  void inKubernetesThePodNameIsTheId() {
    Map<String, String> k8s =
        Map.of("KUBERNETES_SERVICE_HOST", "10.0.0.1", "HOSTNAME", "workers-2");
    assertThat(WorkerIdentity.resolveId(null, k8s, stateDir, new Random())).isEqualTo("workers-2");
    assertThat(
            WorkerIdentity.resolveId(
                "",
                Map.of(
                    "KUBERNETES_SERVICE_HOST",
                    "10.0.0.1",
                    "POD_NAME",
                    "workers-3",
                    "HOSTNAME",
                    "h"),
                stateDir,
                new Random()))
        .isEqualTo("workers-3");
  }

  @Test
  void otherwiseAnIdIsGeneratedOnceAndKeptAcrossRestarts() {
    String first =
        WorkerIdentity.resolveId(null, Map.of("HOSTNAME", "laptop"), stateDir, new Random(1));
    String again = WorkerIdentity.resolveId(null, Map.of(), stateDir, new Random(2));

    assertThat(first).matches("worker-[0-9a-f]{8}");
    assertThat(again).isEqualTo(first);
    assertThat(stateDir.resolve(WorkerIdentity.ID_FILE)).hasContent(first);
  }
}
