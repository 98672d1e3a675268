package io.workron.scheduler.api;

import io.workron.scheduler.overview.Rollups;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /internal/overview?minutes=60}: per minute, the jobs that ended (done, failed,
 * cancelled) and their submit-to-start and run times (median, 95th percentile), oldest first.
 */
@RestController
class OverviewController {

  private final Rollups rollups;

  OverviewController(Rollups rollups) {
    this.rollups = rollups;
  }

  @GetMapping("/internal/overview")
  ResponseEntity<?> overview(@RequestParam(defaultValue = "60") int minutes) {
    if (minutes < 1 || minutes > 1440) {
      ProblemDetail p =
          ProblemDetail.forStatusAndDetail(
              HttpStatus.BAD_REQUEST, "minutes must be between 1 and 1440");
      p.setProperty("field", "minutes");
      return ResponseEntity.badRequest().body(p);
    }
    return ResponseEntity.ok(Map.of("minutes", rollups.last(minutes)));
  }
}
