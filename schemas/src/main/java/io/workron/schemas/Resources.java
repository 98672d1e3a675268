package io.workron.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/** Resources a job needs or a worker offers. Zero means "none asked for" / "none offered". */
@JsonInclude(JsonInclude.Include.NON_DEFAULT)
public record Resources(
    @JsonProperty("vram_mb") long vramMb, @JsonProperty("memory_mb") long memoryMb) {
  public static final Resources NONE = new Resources(0, 0);

  public boolean fitsIn(long freeVramMb, long freeMemoryMb) {
    return vramMb <= freeVramMb && memoryMb <= freeMemoryMb;
  }
}
