package dev.jbond.spi;

import java.util.Map;

/**
 * Provider fixtures for {@link BackendRegistryTest}. {@code
 * META-INF/services/dev.jbond.spi.GreeterProviders$GreeterProvider} in the test resources lists
 * {@link EnglishProvider}, {@link OfflineProvider}, {@link BrokenProvider} and a class that does
 * not exist.
 */
public final class GreeterProviders {
  private GreeterProviders() {}

  /** The backend type of the fixtures. */
  public interface Greeter {
    /**
     * Greets someone.
     *
     * @param name who to greet
     * @return the greeting
     */
    String greet(String name);
  }

  /** The provider interface under which the fixtures are registered. */
  public interface GreeterProvider extends BackendProvider<Greeter> {}

  /** An available provider of low priority. */
  public static final class EnglishProvider implements GreeterProvider {
    /** Creates the provider. */
    public EnglishProvider() {}

    @Override
    public String name() {
      return "english";
    }

    @Override
    public boolean isAvailable() {
      return true;
    }

    @Override
    public int priority() {
      return 10;
    }

    @Override
    public Greeter create(Map<String, String> options) {
      String greeting = options.getOrDefault("greeting", "Hello");
      return name -> greeting + ", " + name;
    }
  }

  /** A provider of high priority that is never available (like a GPU engine on a CPU host). */
  public static final class OfflineProvider implements GreeterProvider {
    /** Creates the provider. */
    public OfflineProvider() {}

    @Override
    public String name() {
      return "offline";
    }

    @Override
    public boolean isAvailable() {
      return false;
    }

    @Override
    public int priority() {
      return 100;
    }

    @Override
    public Greeter create(Map<String, String> options) {
      throw new IllegalStateException("Backend 'offline' is not available");
    }
  }

  /** A provider whose constructor throws, breaking the contract; discovery must survive it. */
  public static final class BrokenProvider implements GreeterProvider {
    /** Always throws. */
    public BrokenProvider() {
      throw new IllegalStateException("Native library libgreet.so not found");
    }

    @Override
    public String name() {
      return "broken";
    }

    @Override
    public boolean isAvailable() {
      return true;
    }

    @Override
    public int priority() {
      return 1000;
    }

    @Override
    public Greeter create(Map<String, String> options) {
      return name -> name;
    }
  }
}
