package io.workron.scheduler.consume;

import io.workron.schemas.InvalidMessageException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * How every scheduler-core listener applies a poll, so that no record can wedge its partition.
 *
 * <ol>
 *   <li>Each record is decoded; one that cannot be read goes to the dead-letter topic.
 *   <li>The rest are applied in one transaction.
 *   <li>If that fails because of a record's data (see {@link StoreFailures}), the records are
 *       applied one at a time and each one that still fails is dead-lettered with the reason; the
 *       rest of the poll is applied.
 *   <li>If it fails because of the environment, the poll is retried as a whole, with backoff, while
 *       readiness reports the listener down; nothing is dead-lettered for it.
 * </ol>
 */
@Component
public class PollApplier {

  private static final Logger log = LoggerFactory.getLogger(PollApplier.class);

  /** Reads one record; throws when it is not a valid message. */
  @FunctionalInterface
  public interface Decoder<T> {
    T decode(ConsumerRecord<String, byte[]> record) throws InvalidMessageException;
  }

  private record Item<T>(ConsumerRecord<String, byte[]> origin, T value) {}

  private final DeadLetters deadLetters;
  private final ListenerHealth health;

  PollApplier(DeadLetters deadLetters, ListenerHealth health) {
    this.deadLetters = deadLetters;
    this.health = health;
  }

  /**
   * Decodes and applies {@code records}; {@code store} applies a list of decoded values in one
   * transaction; {@code afterwards} then records that the whole poll was handled (progress,
   * watermarks). Returns normally once every record is applied or dead-lettered. Dead letters go
   * out last, once everything else has succeeded, so a poll retried for the environment's sake does
   * not dead-letter the same records again each time.
   */
  public <T> void apply(
      String listener,
      List<ConsumerRecord<String, byte[]>> records,
      Decoder<T> decoder,
      Consumer<List<T>> store,
      Runnable afterwards) {
    try {
      List<Item<T>> items = new ArrayList<>(records.size());
      List<DeadLetter> dead = new ArrayList<>();
      for (ConsumerRecord<String, byte[]> record : records) {
        try {
          items.add(new Item<>(record, decoder.decode(record)));
        } catch (InvalidMessageException e) {
          dead.add(new DeadLetter(record, e));
        }
      }
      if (!items.isEmpty()) {
        try {
          store.accept(items.stream().map(Item::value).toList());
        } catch (RuntimeException e) {
          if (!StoreFailures.isDataError(e)) {
            throw e;
          }
          log.info(
              "{}: a record of this poll cannot be applied ({}); applying the {} records one by"
                  + " one",
              listener,
              StoreFailures.describe(e),
              items.size());
          applyOneByOne(items, store, dead);
        }
      }
      for (DeadLetter d : dead) {
        deadLetters.send(d.record(), d.error());
      }
      afterwards.run();
      health.ok(listener);
    } catch (RuntimeException e) {
      health.failing(listener, e);
      throw e;
    }
  }

  private record DeadLetter(ConsumerRecord<String, byte[]> record, InvalidMessageException error) {}

  private <T> void applyOneByOne(
      List<Item<T>> items, Consumer<List<T>> store, List<DeadLetter> dead) {
    for (Item<T> item : items) {
      try {
        store.accept(List.of(item.value()));
      } catch (RecordRefused e) {
        dead.add(new DeadLetter(item.origin(), e.asInvalidMessage()));
      } catch (RuntimeException e) {
        if (!StoreFailures.isDataError(e)) {
          throw e;
        }
        dead.add(
            new DeadLetter(
                item.origin(),
                new InvalidMessageException(
                    InvalidMessageException.Reason.REJECTED_BY_STORE,
                    "",
                    "could not be applied: " + StoreFailures.describe(e))));
      }
    }
  }
}
