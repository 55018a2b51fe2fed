package dev.jbond.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import dev.jbond.spi.GreeterProviders.Greeter;
import dev.jbond.spi.GreeterProviders.GreeterProvider;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BackendRegistryTest {
  @Test
  void load_servicesFile_registersWorkingProvidersAndRecordsBrokenOnes() {
    BackendRegistry<Greeter> registry =
        BackendRegistry.load(GreeterProvider.class, getClass().getClassLoader());

    assertEquals(List.of("english", "offline"), registry.names());
    assertEquals(List.of("english"), names(registry.available()));
    List<String> failures = registry.failures();
    assertEquals(2, failures.size(), failures.toString());
    assertEquals(
        "Could not load a backend provider: dev.jbond.spi.GreeterProviders$GreeterProvider:"
            + " Provider dev.jbond.spi.GreeterProviders$BrokenProvider could not be instantiated"
            + " (java.lang.IllegalStateException: Native library libgreet.so not found)",
        failures.get(0));
    assertTrue(failures.get(1).contains("MissingProvider not found"), failures.get(1));
  }

  @Test
  void load_discoveredProvider_createsWorkingBackend() {
    BackendRegistry<Greeter> registry =
        BackendRegistry.load(GreeterProvider.class, getClass().getClassLoader());

    Greeter greeter = registry.select("english").create(Map.of("greeting", "Hi"));

    assertEquals("Hi, Ada", greeter.greet("Ada"));
  }

  @Test
  void defaultProvider_discovered_isHighestPriorityAmongAvailable() {
    BackendRegistry<Greeter> registry =
        BackendRegistry.load(GreeterProvider.class, getClass().getClassLoader());

    assertEquals("english", registry.defaultProvider().name());
  }

  @Test
  void select_unknownName_throwsListingAvailableNames() {
    BackendRegistry<Greeter> registry = new BackendRegistry<>();
    registry.register(provider("reference", true, 0));
    registry.register(provider("ort-cpu", true, 10));
    registry.register(provider("ort-gpu", false, 20));

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> registry.select("ort-cuda"));

    assertEquals("Unknown backend 'ort-cuda', available: [ort-cpu, reference]", e.getMessage());
  }

  @Test
  void select_unknownNameAfterDiscoveryFailures_mentionsThem() {
    BackendRegistry<Greeter> registry =
        BackendRegistry.load(GreeterProvider.class, getClass().getClassLoader());

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> registry.select("broken"));

    assertEquals(
        "Unknown backend 'broken', available: [english]; providers that failed to load: 2",
        e.getMessage());
  }

  @Test
  void select_unavailableProvider_throwsIllegalState() {
    BackendRegistry<Greeter> registry =
        BackendRegistry.load(GreeterProvider.class, getClass().getClassLoader());

    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> registry.select("offline"));

    assertEquals("Backend 'offline' is not available here, available: [english]", e.getMessage());
  }

  @Test
  void select_availableProvider_returnsIt() {
    BackendRegistry<Greeter> registry = new BackendRegistry<>();
    BackendProvider<Greeter> reference = provider("reference", true, 0);
    registry.register(reference).register(provider("ort-cpu", true, 10));

    assertSame(reference, registry.select("reference"));
  }

  @Test
  void register_duplicateName_throws() {
    BackendRegistry<Greeter> registry = new BackendRegistry<>();
    registry.register(new GreeterProviders.EnglishProvider());

    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> registry.register(new GreeterProviders.EnglishProvider()));

    assertEquals(
        "Expected a unique backend name, found 'english' registered by both"
            + " dev.jbond.spi.GreeterProviders$EnglishProvider and"
            + " dev.jbond.spi.GreeterProviders$EnglishProvider",
        e.getMessage());
  }

  @Test
  void register_emptyName_throws() {
    BackendProvider<Greeter> unnamed = provider("", true, 0);
    BackendRegistry<Greeter> registry = new BackendRegistry<>();

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> registry.register(unnamed));

    assertTrue(e.getMessage().startsWith("Expected a non-empty backend name from "));
    assertTrue(e.getMessage().endsWith(", found ''"), e.getMessage());
  }

  @Test
  void register_intoOneRegistry_doesNotAffectAnother() {
    BackendRegistry<Greeter> first =
        BackendRegistry.load(GreeterProvider.class, getClass().getClassLoader());
    BackendRegistry<Greeter> second =
        BackendRegistry.load(GreeterProvider.class, getClass().getClassLoader());

    first.register(provider("extra", true, 0));

    assertEquals(List.of("english", "extra", "offline"), first.names());
    assertEquals(List.of("english", "offline"), second.names());
  }

  @Test
  void available_mixedPriorities_sortedByPriorityThenName() {
    BackendRegistry<Greeter> registry = new BackendRegistry<>();
    registry.register(provider("b", true, 5));
    registry.register(provider("a", true, 5));
    registry.register(provider("c", true, 7));
    registry.register(provider("d", false, 9));
    registry.register(provider("e", true, Integer.MIN_VALUE));

    assertEquals(List.of("c", "a", "b", "e"), names(registry.available()));
    assertEquals(List.of("a", "b", "c", "d", "e"), registry.names());
  }

  @Test
  void defaultProvider_tiedPriorities_picksFirstByName() {
    BackendRegistry<Greeter> registry = new BackendRegistry<>();
    registry.register(provider("zeta", true, 3));
    registry.register(provider("alpha", true, 3));

    assertEquals("alpha", registry.defaultProvider().name());
  }

  @Test
  void defaultProvider_noneAvailable_throws() {
    BackendRegistry<Greeter> registry = new BackendRegistry<>();
    registry.register(provider("ort-gpu", false, 20));

    IllegalStateException e = assertThrows(IllegalStateException.class, registry::defaultProvider);

    assertEquals(
        "Expected at least one available backend, found none among [ort-gpu]", e.getMessage());
  }

  @Test
  void defaultProvider_emptyRegistry_throws() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class, () -> new BackendRegistry<Greeter>().defaultProvider());

    assertEquals("Expected at least one available backend, found none among []", e.getMessage());
  }

  @Test
  void available_providerThrowingFromIsAvailable_countsAsUnavailable() {
    BackendProvider<Greeter> throwing = provider("flaky", true, 50);
    when(throwing.isAvailable()).thenThrow(new UnsatisfiedLinkError("no libcuda"));
    BackendRegistry<Greeter> registry = new BackendRegistry<>();
    registry.register(throwing).register(provider("reference", true, 0));

    assertEquals(List.of("reference"), names(registry.available()));
    assertEquals("reference", registry.defaultProvider().name());
    assertThrows(IllegalStateException.class, () -> registry.select("flaky"));
  }

  @Test
  void available_providerBecomingAvailable_isAskedOnEveryCall() {
    BackendProvider<Greeter> gpu = provider("gpu", false, 50);
    BackendRegistry<Greeter> registry = new BackendRegistry<>();
    registry.register(gpu).register(provider("cpu", true, 0));
    assertEquals("cpu", registry.defaultProvider().name());

    when(gpu.isAvailable()).thenReturn(true);

    assertEquals("gpu", registry.defaultProvider().name());
  }

  @Test
  void load_noProviders_returnsEmptyRegistry() {
    BackendRegistry<Greeter> registry =
        BackendRegistry.load(EmptyProvider.class, getClass().getClassLoader());

    assertEquals(List.of(), registry.names());
    assertEquals(List.of(), registry.failures());
  }

  /** A provider interface that no services file lists. */
  interface EmptyProvider extends BackendProvider<Greeter> {}

  @SuppressWarnings("unchecked")
  private static BackendProvider<Greeter> provider(String name, boolean available, int priority) {
    BackendProvider<Greeter> provider = mock(BackendProvider.class);
    when(provider.name()).thenReturn(name);
    when(provider.isAvailable()).thenReturn(available);
    when(provider.priority()).thenReturn(priority);
    return provider;
  }

  private static List<String> names(List<? extends BackendProvider<?>> providers) {
    return providers.stream().map(BackendProvider::name).toList();
  }
}
