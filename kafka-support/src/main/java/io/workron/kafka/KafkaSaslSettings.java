package io.workron.kafka;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * SASL for every Kafka client of a service, from {@code workron.kafka.username} and {@code
 * workron.kafka.password} (and {@code workron.kafka.sasl-mechanism}, SCRAM-SHA-512 unless set).
 *
 * <p>They become the Spring Boot settings every producer, consumer and admin client of the service
 * is built from: {@code spring.kafka.security.protocol} (SASL over the transport already chosen:
 * PLAINTEXT becomes SASL_PLAINTEXT, SSL becomes SASL_SSL), and {@code sasl.mechanism} and {@code
 * sasl.jaas.config} under {@code spring.kafka.properties}. So a deployment sets two values from a
 * Secret instead of composing a JAAS line with the password inside. Without a username nothing
 * changes; a username without a password, or one of them with an unknown mechanism, stops the start
 * naming the property.
 */
public final class KafkaSaslSettings implements EnvironmentPostProcessor, Ordered {

  public static final String USERNAME = "workron.kafka.username";
  public static final String PASSWORD = "workron.kafka.password";
  public static final String MECHANISM = "workron.kafka.sasl-mechanism";

  public static final String PROTOCOL = "spring.kafka.security.protocol";
  public static final String SASL_MECHANISM = "spring.kafka.properties.sasl.mechanism";
  public static final String JAAS_CONFIG = "spring.kafka.properties.sasl.jaas.config";

  /** After the configuration files are read, so that their values and the environment's count. */
  @Override
  public int getOrder() {
    return Ordered.LOWEST_PRECEDENCE;
  }

  @Override
  public void postProcessEnvironment(
      ConfigurableEnvironment environment, SpringApplication application) {
    Map<String, Object> settings =
        settings(
            environment.getProperty(USERNAME, ""),
            environment.getProperty(PASSWORD, ""),
            environment.getProperty(MECHANISM, "SCRAM-SHA-512"),
            environment.getProperty(PROTOCOL, "PLAINTEXT"));
    if (!settings.isEmpty()) {
      environment
          .getPropertySources()
          .addFirst(new MapPropertySource("workronKafkaSasl", settings));
    }
  }

  /** The Spring Boot settings for these values; empty when no username is given. */
  public static Map<String, Object> settings(
      String username, String password, String mechanism, String protocol) {
    if (username.isBlank()) {
      if (!password.isEmpty()) {
        throw new IllegalStateException(PASSWORD + " is set but " + USERNAME + " is not");
      }
      return Map.of();
    }
    if (password.isEmpty()) {
      throw new IllegalStateException(USERNAME + " is set but " + PASSWORD + " is not");
    }
    // a JAAS quoted string ends at a line break (a password file's trailing newline, say)
    if (username.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalStateException(USERNAME + " holds a control character (a line break?)");
    }
    if (password.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalStateException(PASSWORD + " holds a control character (a line break?)");
    }
    String sasl = mechanism.isBlank() ? "SCRAM-SHA-512" : mechanism.trim().toUpperCase(Locale.ROOT);
    String module =
        switch (sasl) {
          case "PLAIN" -> "org.apache.kafka.common.security.plain.PlainLoginModule";
          case "SCRAM-SHA-256", "SCRAM-SHA-512" ->
              "org.apache.kafka.common.security.scram.ScramLoginModule";
          default ->
              throw new IllegalStateException(
                  MECHANISM + "=" + mechanism + ": use SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN");
        };
    String transport =
        switch (protocol.trim().toUpperCase(Locale.ROOT)) {
          case "PLAINTEXT", "SASL_PLAINTEXT" -> "SASL_PLAINTEXT";
          case "SSL", "SASL_SSL" -> "SASL_SSL";
          default -> throw new IllegalStateException(PROTOCOL + "=" + protocol + " is not known");
        };
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put(PROTOCOL, transport);
    settings.put(SASL_MECHANISM, sasl);
    settings.put(
        JAAS_CONFIG,
        module
            + " required username="
            + quoted(username.trim())
            + " password="
            + quoted(password)
            + ";");
    return settings;
  }

  /** A JAAS option value: in double quotes, with backslash and double quote escaped. */
  private static String quoted(String value) {
    return '"' + value.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
  }
}
