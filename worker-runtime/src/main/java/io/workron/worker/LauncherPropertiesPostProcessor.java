package io.workron.worker;

import java.util.HashMap;
import java.util.Map;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.config.ConfigDataEnvironmentPostProcessor;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.MutablePropertySources;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;

/**
 * Lets whoever launches a worker through {@link WorkerApplication#builder()} override {@code
 * worker-runtime.properties}. Spring keeps {@code builder().properties(...)} as "default
 * properties", below every configuration file, so standalone mode could not give its two workers
 * different ids and ports. This copies them just below environment variables: command-line
 * arguments, system properties and environment variables still win, then the launcher's properties,
 * then the file. Only the worker application is affected.
 */
class LauncherPropertiesPostProcessor implements EnvironmentPostProcessor, Ordered {

  static final String SOURCE_NAME = "workronLauncherProperties";

  @Override
  public void postProcessEnvironment(
      ConfigurableEnvironment environment, SpringApplication application) {
    if (!application.getAllSources().contains(WorkerApplication.class)) {
      return;
    }
    MutablePropertySources sources = environment.getPropertySources();
    PropertySource<?> defaults = sources.get("defaultProperties");
    if (!(defaults instanceof EnumerablePropertySource<?> enumerable)
        || sources.contains(SOURCE_NAME)) {
      return;
    }
    Map<String, Object> copy = new HashMap<>();
    for (String name : enumerable.getPropertyNames()) {
      copy.put(name, enumerable.getProperty(name));
    }
    MapPropertySource launcher = new MapPropertySource(SOURCE_NAME, copy);
    String environmentVariables = StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME;
    if (sources.contains(environmentVariables)) {
      sources.addAfter(environmentVariables, launcher);
    } else {
      sources.addFirst(launcher);
    }
  }

  /** After the configuration files are loaded, so the copy can be ranked above them. */
  @Override
  public int getOrder() {
    return ConfigDataEnvironmentPostProcessor.ORDER + 1;
  }
}
