package io.workron.scheduler.gangs;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Gang scheduling settings ({@code workron.scheduler.gangs.*}).
 *
 * @param admissionTick how often the admission loop (one replica at a time, advisory lock 2) places
 *     waiting gangs, rolls back reservations and forces overdue drains
 * @param readyTimeout a gang whose tasks were reserved this long ago and are not all listed by
 *     their workers is drained and waits again (no attempt counted)
 * @param holdAfter once the first gang that does not fit now has waited this long, the workers it
 *     needs take no new ordinary jobs until it is placed
 * @param drainForceTimeout a task ordered stopped in a drain round whose worker has not
 *     acknowledged within this long counts as drained (keep it above the workers' stop-grace)
 * @param rendezvousPort the port added to task 0's {@code exec_addr} host in {@code
 *     GANG_RENDEZVOUS} and {@code MASTER_PORT}, for torchrun/NCCL-style launchers
 * @param minRunTime a preemptible job or gang that started less than this long ago is not preempted
 *     again (against thrashing)
 * @param checkpointMaxBytes largest checkpoint stored (at most 512 KiB: its base64 travels in a
 *     dispatch and a result, under Kafka's 1 MiB message limit); a bigger one is refused with a
 *     reason in the attempt's history (it must fit a Kafka message with room to spare)
 */
@Validated
@ConfigurationProperties("workron.scheduler.gangs")
public record GangProperties(
    @DefaultValue("1s") Duration admissionTick,
    @DefaultValue("60s") Duration readyTimeout,
    @DefaultValue("30s") Duration holdAfter,
    @DefaultValue("25s") Duration drainForceTimeout,
    @DefaultValue("29500") @Min(1) @Max(65535) int rendezvousPort,
    @DefaultValue("5m") Duration minRunTime,
    @DefaultValue("262144") @Min(1) @Max(393216) int checkpointMaxBytes) {}
