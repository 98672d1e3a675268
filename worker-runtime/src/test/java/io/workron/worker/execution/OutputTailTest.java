package io.workron.worker.execution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class OutputTailTest {

  @Test
  void keepsTheNewestBytesAcrossManySmallWrites() {
    OutputTail tail = new OutputTail(8);
    for (char c = 'a'; c <= 'z'; c++) {
      byte[] one = {(byte) c};
      tail.write(one, 0, 1);
    }

    assertThat(tail.text()).isEqualTo("stuvwxyz");
    assertThat(tail.truncated()).isTrue();
  }

  @Test
  void startsOnACharacterBoundaryWhenTheCutFallsInsideAMultiByteCharacter() {
    OutputTail tail = new OutputTail(8);
    byte[] text = "ab€€€".getBytes(StandardCharsets.UTF_8); // 2 + 3 × 3 = 11 bytes

    tail.write(text, 0, text.length);

    // the last 8 bytes start with the second half of a euro sign, which is dropped
    assertThat(tail.text()).isEqualTo("€€");
    assertThat(tail.truncated()).isTrue();
  }
}
