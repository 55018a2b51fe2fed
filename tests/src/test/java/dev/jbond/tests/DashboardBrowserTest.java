package dev.jbond.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.internal.Json;
import dev.jbond.orchestrator.cli.BondCommand;
import dev.jbond.orchestrator.cli.DemoCommand;
import dev.jbond.orchestrator.config.ConfigYaml;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.Micronaut;
import io.micronaut.runtime.server.EmbeddedServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard of {@code bond server} in a real browser (headless Chromium through Selenium and
 * the system's chromedriver; nothing is downloaded): a tiny seeded demo run submitted over HTTP is
 * selected, its plots grow live from the event streams, Stop stops it and Resume runs it to the
 * end, with no warning or error in the page's console; a server with a token shows the login page
 * until the right token is entered. Saves a screenshot of the live run to {@code
 * tests/target/dashboard.png} and, when the test passes and {@code
 * -Djbond.test.updateScreenshot=true} is given, to {@code docs/dashboard.png} (the README's
 * picture).
 *
 * <p>Needs {@code /usr/bin/chromium} and {@code /usr/bin/chromedriver} (Debian: {@code apt-get
 * install chromium chromium-driver}); the system properties {@code jbond.test.chromium} and {@code
 * webdriver.chrome.driver} point elsewhere. Without them the tests are skipped, saying so.
 */
class DashboardBrowserTest {
  private static final long SEED = 11;
  private static final int STEPS = 20; // 0.2 to 1.5 s a step here; Stop lands near step 4
  private static final String TOKEN = "dashboard-test-token-5f3a";
  private static final Duration WAIT = Duration.ofSeconds(40);

  @TempDir static Path dir;
  private static ChromeDriver driver;
  private static String skipped; // why the tests are skipped; null: they run
  private static final List<ApplicationContext> servers = new ArrayList<>();

  @BeforeAll
  static void browser() {
    Path chromium = Path.of(System.getProperty("jbond.test.chromium", "/usr/bin/chromium"));
    Path chromedriver =
        Path.of(System.getProperty("webdriver.chrome.driver", "/usr/bin/chromedriver"));
    List<String> missing = new ArrayList<>();
    if (!Files.isExecutable(chromium)) {
      missing.add("the browser " + chromium);
    }
    if (!Files.isExecutable(chromedriver)) {
      missing.add("the driver " + chromedriver);
    }
    if (!missing.isEmpty()) {
      // JUnit reports an assumption failed in @BeforeAll as no test at all: skip each test instead
      skipped =
          "Skipped the dashboard browser test: "
              + String.join(" and ", missing)
              + " not found (install them with `apt-get install chromium chromium-driver`)";
      System.err.println(skipped);
      return;
    }
    ChromeOptions options = new ChromeOptions();
    options.setBinary(chromium.toFile());
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000");
    // the driver is named, so Selenium Manager (which needs the network) is never asked for one
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(chromedriver.toFile())
            .usingAnyFreePort()
            .build();
    driver = new ChromeDriver(service, options);
  }

  @BeforeEach
  void needsTheBrowser() {
    Assumptions.assumeTrue(skipped == null, skipped);
  }

  @AfterAll
  static void close() {
    try {
      if (driver != null) {
        driver.quit();
      }
    } finally {
      for (ApplicationContext server : servers) {
        server.close();
      }
      servers.clear();
    }
  }

  @Test
  void dashboard_liveRun_plotsGrowAndStopAndResumeWork() throws Exception {
    Path runs = Files.createDirectories(dir.resolve("runs"));
    URI base = start(runs, null);
    String id = submit(base, STEPS);

    driver.manage().logs().get(LogType.BROWSER); // drops what an earlier test logged
    driver.get(base.toString());
    await(
        "run " + id + " selected and listed",
        () ->
            text("run-title").equals(id)
                && !driver
                    .findElements(By.cssSelector("#runs-body tr[data-run-id='" + id + "']"))
                    .isEmpty());
    await("the first reward points", () -> points("plot-reward") > 0);
    int first = points("plot-reward");
    await("more reward points than " + first + ", live", () -> points("plot-reward") > first);
    await("step-time points", () -> points("plot-steptime") > 0);
    await("quantile points", () -> points("plot-quantile") > 0);
    await("frontier points", () -> points("plot-frontier") > 0);
    assertEquals("running", status(), "the run should still run when Stop is clicked");
    assertTrue(text("run-step").endsWith(" / " + STEPS), text("run-step"));

    click("stop-button");
    await("the run stopped", () -> status().equals("stopped"));
    assertEquals("Stop requested.", text("action-message"));
    await(
        "the runs list showing it stopped",
        () ->
            "stopped"
                .equals(
                    driver
                        .findElement(By.cssSelector("#runs-body tr[data-run-id='" + id + "']"))
                        .getDomAttribute("data-status")));
    int stopped = points("plot-reward");
    assertTrue(stopped < STEPS, "stopped at " + stopped + " of " + STEPS + " steps");

    click("resume-button");
    await(
        "the run resumed with more points than " + stopped,
        () -> Set.of("running", "finished").contains(status()) && points("plot-reward") > stopped);
    assertEquals("Resumed.", text("action-message"));
    int shown = Math.min(STEPS, stopped + 4);
    await("the resumed run at " + shown + " points", () -> points("plot-reward") >= shown);
    Path shot = RepositoryRoot.get().resolve("tests").resolve("target").resolve("dashboard.png");
    Files.createDirectories(shot.getParent());
    Files.write(shot, driver.getScreenshotAs(OutputType.BYTES));

    await(
        "the run finished with all " + STEPS + " points",
        () -> status().equals("finished") && points("plot-reward") == STEPS);
    assertEquals(STEPS + " / " + STEPS, text("run-step"));
    assertEquals(STEPS, points("plot-steptime"));
    assertTrue(points("plot-quantile") >= STEPS / 2, "quantile points " + points("plot-quantile"));
    assertFalse(driver.findElement(By.id("stop-button")).isEnabled(), "Stop of a finished run");

    List<String> problems =
        driver.manage().logs().get(LogType.BROWSER).getAll().stream()
            .filter(e -> e.getLevel().intValue() >= Level.WARNING.intValue())
            .map(e -> e.getLevel() + " " + e.getMessage())
            .toList();
    assertEquals(List.of(), problems, "the page's console");

    if (Boolean.getBoolean("jbond.test.updateScreenshot")) {
      Path docs = RepositoryRoot.get().resolve("docs").resolve("dashboard.png");
      Files.copy(shot, docs, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  @Test
  void login_tokenServer_showsTheDashboardOnlyForTheRightToken() throws Exception {
    Path runs = Files.createDirectories(dir.resolve("token-runs"));
    Path tokenFile = dir.resolve("token");
    Files.writeString(tokenFile, TOKEN + "\n", StandardCharsets.UTF_8);
    URI base = start(runs, tokenFile);
    try {
      driver.get(base.toString());
      await("the login page", () -> !driver.findElements(By.id("login-form")).isEmpty());
      assertTrue(driver.findElements(By.id("runs-body")).isEmpty());

      WebElement form = driver.findElement(By.id("login-form"));
      driver.findElement(By.id("token")).sendKeys("not-" + TOKEN);
      click("login-button");
      await("the reloaded login page", () -> stale(form));
      await("the login page again", () -> !driver.findElements(By.id("login-form")).isEmpty());
      assertEquals(
          "The saved token was not accepted. Enter it again.", text("login-error"), "login error");
      assertTrue(driver.findElements(By.id("runs-body")).isEmpty());

      driver.findElement(By.id("token")).sendKeys(TOKEN);
      click("login-button");
      await("the dashboard", () -> !driver.findElements(By.id("runs-body")).isEmpty());
      assertTrue(driver.findElements(By.id("login-form")).isEmpty());
      await("the empty runs list", () -> driver.findElement(By.id("runs-empty")).isDisplayed());
      assertFalse(driver.findElement(By.id("auth-banner")).isDisplayed());
    } finally {
      driver.manage().deleteAllCookies(); // cookies are per host, not per port
    }
  }

  /** Starts {@code bond server} in process on a free loopback port; returns its base URI. */
  private static URI start(Path runs, Path tokenFile) {
    Map<String, Object> properties = new LinkedHashMap<>();
    properties.put("jbond.server.enabled", "true");
    properties.put("micronaut.server.host", "127.0.0.1");
    properties.put("micronaut.server.port", "-1");
    properties.put("jbond.server.runs", runs.toString());
    properties.put("jbond.server.allow-paths", runs + "," + RepositoryRoot.demo());
    if (tokenFile != null) {
      properties.put("jbond.server.token-file", tokenFile.toString());
    }
    ApplicationContext context =
        Micronaut.build(new String[0])
            .mainClass(BondCommand.class)
            .banner(false)
            .properties(properties)
            .start();
    servers.add(context);
    return URI.create("http://127.0.0.1:" + context.getBean(EmbeddedServer.class).getPort() + "/");
  }

  /**
   * Submits the demo configuration made tiny (8 prompts a step, 24 new tokens, a 2-prompt
   * evaluation with 2 samples each every 2 steps, a checkpoint every step); returns the run id.
   */
  @SuppressWarnings("unchecked") // sections of the configuration tree
  private static String submit(URI base, int steps) throws IOException, InterruptedException {
    Map<String, Object> tree =
        ConfigYaml.tree(DemoCommand.config(RepositoryRoot.demo(), steps, SEED));
    ((Map<String, Object>) tree.get("prompts")).put("batch-size", 8);
    ((Map<String, Object>) tree.get("sampling")).put("max-new-tokens", 24);
    Map<String, Object> eval = (Map<String, Object>) tree.get("eval");
    eval.put("samples-per-prompt", 2);
    eval.put("reference-samples", 2);
    eval.put("max-prompts", 2);
    Map<String, Object> run = (Map<String, Object>) tree.get("run");
    run.put("eval-every", 2);
    run.put("checkpoint-every", 1);
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> created =
        client.send(
            HttpRequest.newBuilder(base.resolve("/runs"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(Json.write(tree)))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(201, created.statusCode(), created.body());
    return String.valueOf(Json.parseObject(created.body()).get("id"));
  }

  private static void await(String what, BooleanSupplier condition) {
    new WebDriverWait(driver, WAIT, Duration.ofMillis(100))
        .withMessage(
            () ->
                "Expected "
                    + what
                    + "; the page shows "
                    + (driver.findElements(By.id("run-status")).isEmpty()
                        ? driver.getTitle()
                        : "status "
                            + status()
                            + ", step "
                            + text("run-step")
                            + ", reward points "
                            + points("plot-reward")
                            + ", action message '"
                            + text("action-message")
                            + "'"))
        .until(d -> condition.getAsBoolean());
  }

  private static String text(String id) {
    return driver.findElement(By.id(id)).getText();
  }

  private static String status() {
    return driver.findElement(By.id("run-status")).getDomAttribute("data-status");
  }

  private static int points(String canvas) {
    return Integer.parseInt(driver.findElement(By.id(canvas)).getDomAttribute("data-points"));
  }

  private static void click(String id) {
    await(id + " enabled", () -> driver.findElement(By.id(id)).isEnabled());
    driver.findElement(By.id(id)).click();
  }

  private static boolean stale(WebElement element) {
    try {
      element.isEnabled();
      return false;
    } catch (StaleElementReferenceException e) {
      return true;
    }
  }
}
