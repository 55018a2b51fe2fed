package dev.jbond.models.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.time.Clock;
import java.util.Map;
import java.util.Set;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.TreeStore;
import jinjava.de.odysseus.el.tree.impl.Builder;
import jinjava.de.odysseus.el.tree.impl.Cache;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ExpressionFactory;

/**
 * A Jinjava engine set up as Hugging Face sets up Python Jinja for chat templates.
 *
 * <ul>
 *   <li>values are text, never template code: nested interpretation (Jinjava renders {@code {{ ...
 *       }}} found in an expression's value again) is off;
 *   <li>{@code trim_blocks} on ({@code lstrip_blocks} is left to {@link ChatTemplate}, which
 *       applies it to the template's source: Jinjava's strips too much);
 *   <li>whitespace control ({@code -}) on expressions and comments as well as on tags, and read
 *       only right next to the delimiter, so {@code {{ -1 }}} is a negative number;
 *   <li>Jinja's precedence of {@code not} ({@link JinjaTreeBuilder});
 *   <li>Python's string methods and string indexing ({@link PythonMethodResolver});
 *   <li>Hugging Face's {@code tojson} ({@link ToJsonFilter}) and Python's {@code trim} ({@link
 *       TrimFilter});
 *   <li>the globals {@code raise_exception} and {@code strftime_now}, whose clock is {@code clock};
 *   <li>Python's semantics where Jinjava keeps a legacy behaviour behind an override: dictionary
 *       literal keys are expressions, iterating a mapping gives its keys, and loops keep {@code
 *       none} items.
 * </ul>
 *
 * <p>Jinjava's engine is thread-safe for rendering: each render has its own interpreter.
 */
final class JinjaEngine extends Jinjava {
  /** The size of Jinjava's own expression cache. */
  private static final int EXPRESSION_CACHE_SIZE = 1000;

  /**
   * Jinjava's filters that are not Jinja's and whose libraries jbond leaves out (big-math,
   * commons-net, java-ipv6): a template that uses one fails with a one-line error.
   */
  static final Set<String> UNAVAILABLE_FILTERS =
      Set.of("log", "root", "ipaddr", "ipv4", "ipv6", "b64encode", "b64decode");

  private final ExpressionFactory expressions;

  private JinjaEngine(JinjavaConfig config) {
    super(config);
    // the features of JUEL's JEE6 profile, which Jinjava's own factory uses
    Builder builder =
        new JinjaTreeBuilder(Builder.Feature.METHOD_INVOCATIONS, Builder.Feature.VARARGS);
    this.expressions =
        new ExpressionFactoryImpl(
            new TreeStore(builder, new Cache(EXPRESSION_CACHE_SIZE)), new TruthyTypeConverter());
    getGlobalContext().registerFilter(new ToJsonFilter());
    getGlobalContext().registerFilter(new TrimFilter());
    getGlobalContext()
        .registerFunction(
            new ELFunctionDefinition(
                "", "raise_exception", JinjaFunctions.class, "raiseException", Object.class));
    getGlobalContext()
        .registerFunction(
            new ELFunctionDefinition(
                "", "strftime_now", JinjaFunctions.class, "strftimeNow", String.class));
  }

  static JinjaEngine create(Clock clock) {
    CompositeELResolver resolver = new CompositeELResolver();
    resolver.add(new PythonMethodResolver());
    resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
    LegacyOverrides overrides =
        LegacyOverrides.newBuilder()
            .withUseTrimmingForNotesAndExpressions(true)
            .withParseWhitespaceControlStrictly(true)
            .withEvaluateMapKeys(true)
            .withIterateOverMapKeys(true)
            .withKeepNullableLoopValues(true)
            .build();
    JinjavaConfig config =
        JinjavaConfig.newBuilder()
            .withTrimBlocks(true)
            // Jinjava strips spaces before every block tag, also after other text on the same
            // line; ChatTemplate strips them from the source only at the start of a line
            .withLstripBlocks(false)
            .withLegacyOverrides(overrides)
            // Jinjava would otherwise render "{{ ... }}" and "{% ... %}" that a message's content
            // (any expression's value) contains, as template code
            .withNestedInterpretationEnabled(false)
            .withElResolver(resolver)
            .withDisabled(Map.of(Context.Library.FILTER, UNAVAILABLE_FILTERS))
            .withDateTimeProvider(clock::millis)
            .withTimeZone(clock.getZone())
            .build();
    return new JinjaEngine(config);
  }

  @Override
  public ExpressionFactory getExpressionFactory() {
    return expressions;
  }
}
