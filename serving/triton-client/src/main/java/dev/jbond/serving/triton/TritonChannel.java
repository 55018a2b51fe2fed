package dev.jbond.serving.triton;

import io.grpc.Channel;
import java.util.Objects;

/**
 * A channel to one Triton server that the caller created and owns; the client never shuts it down.
 *
 * @param name the name used in messages and {@link TritonCallOptions#onEndpoint}, non-empty and
 *     unique within a client
 * @param channel the channel
 */
public record TritonChannel(String name, Channel channel) {
  /**
   * Validates the components.
   *
   * @param name see the record description
   * @param channel see the record description
   * @throws IllegalArgumentException when the name is empty
   */
  public TritonChannel {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(channel, "channel");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("Expected a non-empty endpoint name");
    }
  }
}
