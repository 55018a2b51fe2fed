package dev.jbond.orchestrator.config;

import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.representer.Representer;

/**
 * YAML for run configurations: parsing to a plain tree (maps, lists, scalars; duplicate keys
 * refused) and writing a configuration back in the form {@link ConfigBinder} reads, every key
 * present, kebab case, enums and durations as people write them.
 */
public final class ConfigYaml {
  private ConfigYaml() {}

  /**
   * Parses YAML (JSON is accepted too) to a tree of maps, lists and scalars.
   *
   * @param text the document
   * @return the tree; null for an empty document
   * @throws org.yaml.snakeyaml.error.YAMLException when the text is not YAML
   */
  public static Object parse(String text) {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setMaxAliasesForCollections(10);
    String document = text;
    if (document.stripLeading().startsWith("{")) {
      // JSON: a raw tab cannot occur inside a JSON string, so outside them it is plain
      // whitespace, which YAML refuses where it looks like indentation
      document = document.replace('\t', ' ');
    }
    return new Yaml(new SafeConstructor(options)).load(document);
  }

  /**
   * Writes a configuration as YAML.
   *
   * @param config the configuration
   * @return the YAML document
   */
  public static String write(RunConfig config) {
    DumperOptions options = new DumperOptions();
    options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    options.setIndent(2);
    options.setIndicatorIndent(0);
    options.setWidth(100);
    Yaml yaml = new Yaml(new Representer(options), options);
    return yaml.dump(tree(config));
  }

  /**
   * Returns a configuration record as a tree with kebab-case keys, the inverse of binding.
   *
   * @param record the record
   * @return the tree
   */
  public static Map<String, Object> tree(Record record) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (RecordComponent c : record.getClass().getRecordComponents()) {
      Object value;
      try {
        value = c.getAccessor().invoke(record);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("Cannot read configuration component " + c, e);
      }
      map.put(ConfigBinder.kebab(c.getName()), value(value));
    }
    return map;
  }

  private static Object value(Object value) {
    if (value instanceof Record r) {
      return tree(r);
    }
    if (value instanceof List<?> list) {
      List<Object> out = new ArrayList<>(list.size());
      for (Object item : list) {
        out.add(value(item));
      }
      return out;
    }
    if (value instanceof Enum<?> e) {
      return ConfigBinder.kebabConstant(e);
    }
    if (value instanceof Duration d) {
      return Durations.format(d);
    }
    return value;
  }
}
