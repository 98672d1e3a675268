package io.workron.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.common.security.JaasContext;
import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;

class KafkaSaslSettingsTest {

  @Test
  void aUsernameAndPasswordBecomeScramOverTheChosenTransport() {
    Map<String, Object> plain = KafkaSaslSettings.settings("workron", "s3cret", "", "PLAINTEXT");
    assertThat(plain)
        .containsEntry(KafkaSaslSettings.PROTOCOL, "SASL_PLAINTEXT")
        .containsEntry(KafkaSaslSettings.SASL_MECHANISM, "SCRAM-SHA-512");
    AppConfigurationEntry login = login(plain);
    assertThat(login.getLoginModuleName())
        .isEqualTo("org.apache.kafka.common.security.scram.ScramLoginModule");
    assertThat(options(login))
        .containsEntry("username", "workron")
        .containsEntry("password", "s3cret");

    assertThat(KafkaSaslSettings.settings("workron", "s3cret", "SCRAM-SHA-512", "SSL"))
        .containsEntry(KafkaSaslSettings.PROTOCOL, "SASL_SSL");
    assertThat(KafkaSaslSettings.settings("workron", "s3cret", "PLAIN", "SASL_SSL"))
        .containsEntry(KafkaSaslSettings.PROTOCOL, "SASL_SSL")
        .containsEntry(KafkaSaslSettings.SASL_MECHANISM, "PLAIN");
    assertThat(
            login(KafkaSaslSettings.settings("w", "p", "plain", "PLAINTEXT")).getLoginModuleName())
        .isEqualTo("org.apache.kafka.common.security.plain.PlainLoginModule");
  }

  @Test
  void aPasswordWithQuotesAndBackslashesReachesTheLoginModuleUnchanged() {
    String password = "a\"b\\c d;e=f'g";
    assertThat(
            options(
                login(
                    KafkaSaslSettings.settings("team a", password, "SCRAM-SHA-256", "PLAINTEXT"))))
        .containsEntry("username", "team a")
        .containsEntry("password", password);
  }

  @Test
  void withoutAUsernameNothingChangesAndHalfASettingStopsTheStartNamingWhatIsMissing() {
    assertThat(KafkaSaslSettings.settings("", "", "SCRAM-SHA-512", "PLAINTEXT")).isEmpty();
    assertThatThrownBy(
            () -> KafkaSaslSettings.settings("workron", "", "SCRAM-SHA-512", "PLAINTEXT"))
        .hasMessageContaining(KafkaSaslSettings.PASSWORD);
    assertThatThrownBy(() -> KafkaSaslSettings.settings(" ", "pw", "SCRAM-SHA-512", "PLAINTEXT"))
        .hasMessageContaining(KafkaSaslSettings.USERNAME);
    assertThatThrownBy(
            () -> KafkaSaslSettings.settings("workron", "pw\n", "SCRAM-SHA-512", "PLAINTEXT"))
        .hasMessageContaining(KafkaSaslSettings.PASSWORD + " holds a control character");
    assertThatThrownBy(() -> KafkaSaslSettings.settings("workron", "pw", "GSSAPI", "PLAINTEXT"))
        .hasMessageContaining(KafkaSaslSettings.MECHANISM + "=GSSAPI");
    assertThatThrownBy(() -> KafkaSaslSettings.settings("workron", "pw", "PLAIN", "TLS"))
        .hasMessageContaining("spring.kafka.security.protocol=TLS");
  }

  @Configuration(proxyBeanMethods = false)
  static class Empty {}

  @Test
  void everySpringApplicationOnTheClasspathGetsTheSettings() {
    try (ConfigurableApplicationContext context =
        new SpringApplicationBuilder(Empty.class)
            .web(WebApplicationType.NONE)
            .run("--workron.kafka.username=workron", "--workron.kafka.password=pw")) {
      assertThat(context.getEnvironment().getProperty("spring.kafka.security.protocol"))
          .isEqualTo("SASL_PLAINTEXT");
      assertThat(context.getEnvironment().getProperty("spring.kafka.properties.sasl.jaas.config"))
          .contains("username=\"workron\"");
    }
  }

  private static Map<String, Object> options(AppConfigurationEntry entry) {
    return new java.util.HashMap<>(entry.getOptions());
  }

  private static AppConfigurationEntry login(Map<String, Object> settings) {
    String jaas = (String) settings.get(KafkaSaslSettings.JAAS_CONFIG);
    return JaasContext.loadClientContext(Map.of("sasl.jaas.config", new Password(jaas)))
        .configurationEntries()
        .get(0);
  }
}
