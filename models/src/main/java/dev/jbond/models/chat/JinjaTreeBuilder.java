package dev.jbond.models.chat;

import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.Scanner;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstUnary;

/**
 * Jinjava's expression syntax with Python Jinja's precedence of {@code not}.
 *
 * <p>Jinjava parses {@code not} as a unary operator that binds tighter than comparisons, so {@code
 * not a == b} means {@code (not a) == b} and {@code not 'x' in s} means {@code (not 'x') in s}. In
 * Jinja {@code not} binds looser than comparisons and membership tests (and tighter than {@code
 * and}/{@code or}): {@code not (a == b)}. Hugging Face templates are written for Jinja, so this
 * builder's parser reads a leading {@code not} at Jinja's level: where Jinjava's parser starts an
 * equality operand.
 */
final class JinjaTreeBuilder extends ExtendedSyntaxBuilder {
  private static final long serialVersionUID = 1L;

  JinjaTreeBuilder(Feature... features) {
    super(features);
  }

  @Override
  protected Parser createParser(String expression) {
    return new JinjaParser(this, expression);
  }

  private static final class JinjaParser extends ExtendedParser {
    JinjaParser(JinjaTreeBuilder builder, String input) {
      super(builder, input);
    }

    @Override
    protected AstNode eq(boolean required) throws Scanner.ScanException, ParseException {
      if (getToken().getSymbol() == Scanner.Symbol.NOT) {
        consumeToken();
        return createAstUnary(eq(true), AstUnary.NOT);
      }
      return super.eq(required);
    }
  }
}
