package io.workron.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

class DurationConverterTest {

  private final DurationConverter converter = new DurationConverter();

  @Test
  void readsShortAndIsoForms() {
    assertThat(converter.convert("30m")).isEqualTo(Duration.ofMinutes(30));
    assertThat(converter.convert("90s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(converter.convert("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(converter.convert("2h")).isEqualTo(Duration.ofHours(2));
    assertThat(converter.convert("PT5M")).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void refusesNonsense() {
    assertThatThrownBy(() -> converter.convert("soon"))
        .isInstanceOf(TypeConversionException.class)
        .hasMessageContaining("soon");
  }
}
