package dev.jbond.onnx.graph;

import dev.jbond.internal.Checks;
import dev.jbond.onnx.proto.AttributeProto;
import dev.jbond.onnx.proto.AttributeProto.AttributeType;
import dev.jbond.onnx.proto.GraphProto;
import dev.jbond.onnx.proto.ModelProto;
import dev.jbond.onnx.proto.NodeProto;
import dev.jbond.onnx.proto.OperatorSetIdProto;
import dev.jbond.onnx.proto.SparseTensorProto;
import dev.jbond.onnx.proto.TensorProto;
import dev.jbond.onnx.proto.ValueInfoProto;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * A mutable, in-memory ONNX model: one graph of {@link Node}s over named {@link Value}s, with
 * initializers, graph inputs and outputs, opset imports and the model's metadata.
 *
 * <p>Build one from scratch with {@link #create(String, long)} and emit ops with {@link #op} or
 * {@link #node}, or load one with {@link #fromModel(ModelProto)} / {@link #load(Path)}; write it
 * back with {@link #toModel()}, {@link #toBytes()} or {@link #save}. Everything a loaded model
 * holds that this class does not model (doc strings, metadata, functions, sparse initializers,
 * unknown fields) is kept and written back, so loading and saving an unchanged model reproduces its
 * bytes, provided its nodes were in topological order and its tensors used {@code raw_data}.
 *
 * <p>The graph keeps producer and consumer maps up to date as nodes are added, rewired and removed.
 * Value and node names are unique ({@link #uniqueName(String)}); graph-valued attributes (subgraphs
 * of {@code If}/{@code Loop}) are kept as protos and their reads of outer values count as uses.
 *
 * <p>Not thread-safe.
 */
public final class Graph {
  /** The default size threshold of {@link #save(Path, long)}: ONNX's own, 1024 bytes. */
  public static final long DEFAULT_EXTERNAL_DATA_THRESHOLD = 1024;

  private ModelProto modelHeader;
  private GraphProto graphHeader;
  private final Map<String, Value> values = new LinkedHashMap<>();
  private final List<Value> inputs = new ArrayList<>();
  private final List<Value> outputs = new ArrayList<>();
  private final Map<String, Tensor> initializers = new LinkedHashMap<>();
  private final Map<String, TensorProto> initializerHeaders = new HashMap<>();
  private final Set<String> sparseInitializers = new HashSet<>();
  private final List<Node> nodes = new ArrayList<>();
  private final Set<Node> nodeSet = Collections.newSetFromMap(new IdentityHashMap<>());
  private final Map<Value, Node> producers = new IdentityHashMap<>();
  private final Map<Value, List<Node>> uses = new IdentityHashMap<>();
  private final Set<Value> valueInfo = new LinkedHashSet<>();
  private final Set<String> nodeNames = new HashSet<>();
  private final Set<String> reservedNames = new HashSet<>();
  private final Map<String, Integer> nameCounters = new HashMap<>();
  private final Ops ops = new Ops(this);

  private Graph(ModelProto modelHeader, GraphProto graphHeader) {
    this.modelHeader = modelHeader;
    this.graphHeader = graphHeader;
  }

  /**
   * Returns an empty graph that imports the standard domain at {@code opset}, with the IR version
   * that ONNX pairs with that opset ({@link #irVersionFor(long)}).
   *
   * @param name the graph name, non-empty
   * @param opset the standard-domain opset version, {@code >= 1}
   * @return the graph
   * @throws IllegalArgumentException when the name is empty or the opset below 1
   */
  public static Graph create(String name, long opset) {
    Objects.requireNonNull(name, "name");
    Checks.checkArgument(!name.isEmpty(), "Expected a non-empty graph name, found ''");
    Checks.checkArgument(opset >= 1, "Expected an opset version >= 1, found %d", opset);
    ModelProto header =
        ModelProto.newBuilder()
            .setIrVersion(irVersionFor(opset))
            .setProducerName("jbond")
            .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
            .build();
    return new Graph(header, GraphProto.newBuilder().setName(name).build());
  }

  /**
   * Returns the IR version that ONNX releases pair with a standard-domain opset: 7 up to opset 14,
   * 8 up to 18, 9 up to 20, 10 up to 22, then 11.
   *
   * @param opset the standard-domain opset version
   * @return the IR version
   */
  public static long irVersionFor(long opset) {
    if (opset <= 14) {
      return 7;
    } else if (opset <= 18) {
      return 8;
    } else if (opset <= 20) {
      return 9;
    } else if (opset <= 22) {
      return 10;
    }
    return 11;
  }

  /**
   * Reads a model's top-level graph. Tensor data must be inline: use {@link #load(Path)} (or {@link
   * ModelFiles#read(Path)}) for models with external data.
   *
   * @param model the model
   * @return the graph
   * @throws IllegalArgumentException when the model is malformed: an unknown value read by a node
   *     or declared as output, a duplicate value name, an initializer whose type contradicts its
   *     graph input, external or unsupported tensor data
   */
  public static Graph fromModel(ModelProto model) {
    GraphProto graph = model.getGraph();
    Graph g =
        new Graph(
            model.toBuilder().clearGraph().build(),
            graph.toBuilder()
                .clearNode()
                .clearInitializer()
                .clearInput()
                .clearOutput()
                .clearValueInfo()
                .build());
    for (ValueInfoProto input : graph.getInputList()) {
      Value value = g.define(input.getName());
      value.setInfo(input);
      g.inputs.add(value);
    }
    for (TensorProto proto : graph.getInitializerList()) {
      Tensor tensor = Tensor.fromProto(proto);
      g.attachInitializer(proto.getName(), tensor);
      TensorProto header =
          proto.toBuilder()
              .clearDims()
              .clearDataType()
              .clearName()
              .clearRawData()
              .clearFloatData()
              .clearInt32Data()
              .clearInt64Data()
              .clearDoubleData()
              .clearUint64Data()
              .build();
      if (!header.equals(TensorProto.getDefaultInstance())) {
        g.initializerHeaders.put(proto.getName(), header);
      }
    }
    for (SparseTensorProto sparse : graph.getSparseInitializerList()) {
      g.define(sparse.getValues().getName());
      g.sparseInitializers.add(sparse.getValues().getName());
    }
    List<NodeProto> protos = graph.getNodeList();
    List<Node> created = new ArrayList<>(protos.size());
    for (NodeProto proto : protos) {
      List<Value> outs = new ArrayList<>(proto.getOutputCount());
      for (String output : proto.getOutputList()) {
        outs.add(output.isEmpty() ? null : g.define(output));
      }
      Node node =
          new Node(g, proto.toBuilder().clearInput().clearOutput().clearAttribute().build(), outs);
      for (AttributeProto attribute : proto.getAttributeList()) {
        Checks.checkArgument(
            node.rawAttributes().put(attribute.getName(), Attribute.fromProto(attribute)) == null,
            "Duplicate attribute '%s' in %s",
            attribute.getName(),
            node);
      }
      g.register(node);
      created.add(node);
    }
    for (int i = 0; i < created.size(); i++) {
      Node node = created.get(i);
      for (String input : protos.get(i).getInputList()) {
        Value value = null;
        if (!input.isEmpty()) {
          value = g.values.get(input);
          Checks.checkArgument(
              value != null, "Unknown value '%s' read by %s in graph '%s'", input, node, g.name());
        }
        node.rawInputs().add(value);
        g.addUse(value, node);
      }
      if (node.hasGraphAttribute()) {
        g.attributesChanged(node);
      }
    }
    for (ValueInfoProto output : graph.getOutputList()) {
      Value value = g.values.get(output.getName());
      Checks.checkArgument(
          value != null,
          "Unknown value '%s' declared as graph output in graph '%s'",
          output.getName(),
          g.name());
      value.setInfo(output);
      g.outputs.add(value);
    }
    for (ValueInfoProto info : graph.getValueInfoList()) {
      Value value = g.values.get(info.getName());
      if (value != null && !g.valueInfo.contains(value)) {
        value.setInfo(info);
        g.valueInfo.add(value);
      }
    }
    for (Node node : created) {
      TypeNotes.apply(node);
    }
    return g;
  }

  /**
   * Reads a model file, resolving external data relative to the file's directory.
   *
   * @param model the {@code .onnx} file
   * @return the graph
   * @throws IOException when a file cannot be read; {@link dev.jbond.onnx.ModelLoadException} when
   *     the file is not a model or its external data is missing or short
   * @throws IllegalArgumentException when the model is malformed (see {@link #fromModel})
   */
  public static Graph load(Path model) throws IOException {
    return fromModel(ModelFiles.read(model));
  }

  /**
   * Returns the model: nodes in topological order, initializers with their data inline.
   *
   * @return the model proto
   * @throws IllegalArgumentException when the graph has a cycle
   */
  public ModelProto toModel() {
    GraphProto.Builder graph = graphHeader.toBuilder();
    for (Node node : topologicalOrder()) {
      graph.addNode(node.toProto());
    }
    initializers.forEach(
        (name, tensor) -> {
          TensorProto header = initializerHeaders.get(name);
          TensorProto proto = tensor.toProto(name);
          graph.addInitializer(
              header == null ? proto : header.toBuilder().mergeFrom(proto).build());
        });
    inputs.forEach(v -> graph.addInput(infoOf(v)));
    outputs.forEach(v -> graph.addOutput(infoOf(v)));
    for (Value value : valueInfo) {
      if (!inputs.contains(value) && !outputs.contains(value)) {
        graph.addValueInfo(value.info());
      }
    }
    return modelHeader.toBuilder().setGraph(graph).build();
  }

  /**
   * Returns the serialised model ({@link #toModel()}), all data inline.
   *
   * @return the model bytes
   */
  public byte[] toBytes() {
    return toModel().toByteArray();
  }

  /**
   * Writes the model to one file, all data inline.
   *
   * @param model the target {@code .onnx} file
   * @throws IOException when the file cannot be written
   */
  public void save(Path model) throws IOException {
    ModelFiles.write(toModel(), model);
  }

  /**
   * Writes the model with every initializer of at least {@code thresholdBytes} bytes in the side
   * file {@code <model file name>.data} (see {@link ModelFiles#writeWithExternalData}).
   *
   * @param model the target {@code .onnx} file
   * @param thresholdBytes the smallest initializer, in bytes, that goes to the side file
   * @throws IOException when a file cannot be written
   */
  public void save(Path model, long thresholdBytes) throws IOException {
    ModelFiles.writeWithExternalData(toModel(), model, thresholdBytes);
  }

  // ---------------------------------------------------------------- model-level properties

  /**
   * Returns the graph name.
   *
   * @return the name
   */
  public String name() {
    return graphHeader.getName();
  }

  /**
   * Returns the IR version written to the model.
   *
   * @return the IR version
   */
  public long irVersion() {
    return modelHeader.getIrVersion();
  }

  /**
   * Sets the IR version written to the model.
   *
   * @param irVersion the IR version, {@code >= 3}
   */
  public void setIrVersion(long irVersion) {
    Checks.checkArgument(irVersion >= 3, "Expected an IR version >= 3, found %d", irVersion);
    modelHeader = modelHeader.toBuilder().setIrVersion(irVersion).build();
  }

  /**
   * Returns the standard-domain opset version.
   *
   * @return the version
   * @throws IllegalStateException when the model imports no standard-domain opset
   */
  public long opset() {
    OptionalLong version = opset("");
    Checks.checkState(
        version.isPresent(),
        "Expected graph '%s' to import the standard ONNX domain, found imports %s",
        name(),
        opsets());
    return version.getAsLong();
  }

  /**
   * Returns the imported version of {@code domain}; {@code ""} and {@code "ai.onnx"} both name the
   * standard domain.
   *
   * @param domain the operator domain
   * @return the version, or empty when the domain is not imported
   */
  public OptionalLong opset(String domain) {
    String wanted = standardDomain(domain);
    for (OperatorSetIdProto id : modelHeader.getOpsetImportList()) {
      if (standardDomain(id.getDomain()).equals(wanted)) {
        return OptionalLong.of(id.getVersion());
      }
    }
    return OptionalLong.empty();
  }

  /**
   * Returns all opset imports.
   *
   * @return domain to version, in import order
   */
  public Map<String, Long> opsets() {
    Map<String, Long> out = new LinkedHashMap<>();
    modelHeader.getOpsetImportList().forEach(id -> out.put(id.getDomain(), id.getVersion()));
    return Collections.unmodifiableMap(out);
  }

  /**
   * Imports {@code domain} at {@code version}, replacing an earlier import of that domain.
   *
   * @param domain the operator domain
   * @param version the opset version, {@code >= 1}
   */
  public void setOpset(String domain, long version) {
    Checks.checkArgument(version >= 1, "Expected an opset version >= 1, found %d", version);
    ModelProto.Builder header = modelHeader.toBuilder();
    String wanted = standardDomain(domain);
    for (int i = 0; i < header.getOpsetImportCount(); i++) {
      if (standardDomain(header.getOpsetImport(i).getDomain()).equals(wanted)) {
        header.setOpsetImport(i, header.getOpsetImport(i).toBuilder().setVersion(version));
        modelHeader = header.build();
        return;
      }
    }
    header.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(domain).setVersion(version));
    modelHeader = header.build();
  }

  private static String standardDomain(String domain) {
    return "ai.onnx".equals(domain) ? "" : domain;
  }

  /**
   * Returns the opset-aware op helpers for this graph.
   *
   * @return the helpers
   */
  public Ops ops() {
    return ops;
  }

  // ---------------------------------------------------------------- values

  /**
   * Returns the value named {@code name}.
   *
   * @param name a value name
   * @return the value
   * @throws IllegalArgumentException when no value has that name
   */
  public Value value(String name) {
    Value value = values.get(name);
    if (value == null) {
      throw new IllegalArgumentException("Unknown value '" + name + "' in graph '" + name() + "'");
    }
    return value;
  }

  /**
   * Returns the value named {@code name}, if there is one.
   *
   * @param name a value name
   * @return the value, or empty
   */
  public Optional<Value> findValue(String name) {
    return Optional.ofNullable(values.get(name));
  }

  /**
   * Returns all values: graph inputs, initializers and node outputs.
   *
   * @return the values in the order they were defined
   */
  public Collection<Value> values() {
    return Collections.unmodifiableCollection(values.values());
  }

  /**
   * Returns a name that no value or node uses yet, and reserves it: {@code base} itself when free,
   * else {@code base_1}, {@code base_2}, ...
   *
   * @param base the preferred name, non-empty
   * @return the unique name
   */
  public String uniqueName(String base) {
    Objects.requireNonNull(base, "base");
    Checks.checkArgument(!base.isEmpty(), "Expected a non-empty base name, found ''");
    String candidate = base;
    if (isNameTaken(candidate)) {
      int n = nameCounters.getOrDefault(base, 0);
      do {
        n++;
        candidate = base + "_" + n;
      } while (isNameTaken(candidate));
      nameCounters.put(base, n);
    }
    reservedNames.add(candidate);
    return candidate;
  }

  private boolean isNameTaken(String name) {
    return values.containsKey(name) || nodeNames.contains(name) || reservedNames.contains(name);
  }

  // ---------------------------------------------------------------- inputs and outputs

  /**
   * Adds a graph input.
   *
   * @param name the input name, not yet used
   * @param type its type
   * @return the input value
   * @throws IllegalArgumentException when the name is already used
   */
  public Value addInput(String name, TensorType type) {
    Value value = define(name);
    value.setInfo(ValueInfoProto.newBuilder().setName(name).build());
    value.setType(type);
    inputs.add(value);
    return value;
  }

  /**
   * Returns the graph inputs.
   *
   * @return the inputs in order
   */
  public List<Value> inputs() {
    return Collections.unmodifiableList(inputs);
  }

  /**
   * Removes a graph input. An input without an initializer must have no consumers left.
   *
   * @param value a graph input
   * @throws IllegalArgumentException when it is not an input, or still read and not initialized
   */
  public void removeInput(Value value) {
    checkOwns(value);
    Checks.checkArgument(
        inputs.contains(value), "Expected a graph input of '%s', found %s", name(), value);
    if (!initializers.containsKey(value.name())) {
      checkUnused(value, "remove graph input");
      forget(value);
    }
    inputs.remove(value);
  }

  /**
   * Appends a graph output. Its declared type is the value's type note, if any.
   *
   * @param value a value of this graph, not yet an output
   * @throws IllegalArgumentException when the value is not in the graph or already an output
   */
  public void addOutput(Value value) {
    checkOwns(value);
    Checks.checkArgument(
        !outputs.contains(value), "Duplicate graph output %s in graph '%s'", value, name());
    outputs.add(value);
  }

  /**
   * Appends a graph output with a declared type, which also becomes the value's type note.
   *
   * @param value a value of this graph, not yet an output
   * @param type the declared type
   * @throws IllegalArgumentException when the value is not in the graph or already an output
   */
  public void addOutput(Value value, TensorType type) {
    addOutput(value);
    if (value.info() == null) {
      value.setInfo(ValueInfoProto.newBuilder().setName(value.name()).build());
    }
    value.setType(type);
  }

  /**
   * Returns the graph outputs.
   *
   * @return the outputs in order
   */
  public List<Value> outputs() {
    return Collections.unmodifiableList(outputs);
  }

  /**
   * Removes a graph output; the value stays in the graph.
   *
   * @param value a graph output
   * @throws IllegalArgumentException when it is not an output
   */
  public void removeOutput(Value value) {
    Checks.checkArgument(
        outputs.remove(value), "Expected a graph output of '%s', found %s", name(), value);
  }

  // ---------------------------------------------------------------- initializers

  /**
   * Adds an initializer. When a graph input of that name exists, the tensor becomes its default
   * value and must match its declared type.
   *
   * @param name the initializer name, not yet used (or a graph input's name)
   * @param tensor the data
   * @return the value
   * @throws IllegalArgumentException when the name is used by anything but a graph input without
   *     initializer, or the tensor contradicts the input's type
   */
  public Value addInitializer(String name, Tensor tensor) {
    Objects.requireNonNull(tensor, "tensor");
    return attachInitializer(name, tensor);
  }

  /**
   * Adds an initializer under a fresh name derived from {@code base}.
   *
   * @param base the preferred name
   * @param tensor the data
   * @return the value
   */
  public Value addInitializerNamed(String base, Tensor tensor) {
    return addInitializer(uniqueName(base), tensor);
  }

  /**
   * Replaces the data of an initializer with a tensor of the same element type and shape.
   *
   * @param name the initializer name
   * @param tensor the new data
   * @throws IllegalArgumentException when there is no such initializer or the type or shape differs
   */
  public void replaceInitializer(String name, Tensor tensor) {
    Tensor old = initializers.get(name);
    Checks.checkArgument(old != null, "Unknown initializer '%s' in graph '%s'", name, name());
    Checks.checkArgument(
        old.type().equals(tensor.type()),
        "Expected %s for initializer '%s', found %s",
        old.type(),
        name,
        tensor.type());
    initializers.put(name, tensor);
  }

  /**
   * Returns the initializers.
   *
   * @return name to tensor, in order
   */
  public Map<String, Tensor> initializers() {
    return Collections.unmodifiableMap(initializers);
  }

  /**
   * Returns the initializer named {@code name}.
   *
   * @param name the initializer name
   * @return the tensor, or empty
   */
  public Optional<Tensor> initializer(String name) {
    return Optional.ofNullable(initializers.get(name));
  }

  /**
   * Removes an initializer. Unless the value is also a graph input, it must have no consumers.
   *
   * @param name the initializer name
   * @return the removed tensor
   * @throws IllegalArgumentException when there is no such initializer or it is still read
   */
  public Tensor removeInitializer(String name) {
    Tensor tensor = initializers.get(name);
    Checks.checkArgument(tensor != null, "Unknown initializer '%s' in graph '%s'", name, name());
    Value value = values.get(name);
    if (!inputs.contains(value)) {
      checkUnused(value, "remove initializer");
      forget(value);
    }
    initializers.remove(name);
    initializerHeaders.remove(name);
    return tensor;
  }

  /**
   * Turns an initializer into a graph input of the same name and type (how parameters become inputs
   * that are fed at run time).
   *
   * @param name the initializer name
   * @return the removed tensor (the parameter's current value)
   * @throws IllegalArgumentException when there is no such initializer or it already is an input
   */
  public Tensor convertInitializerToInput(String name) {
    Tensor tensor = initializers.get(name);
    Checks.checkArgument(tensor != null, "Unknown initializer '%s' in graph '%s'", name, name());
    Value value = values.get(name);
    Checks.checkArgument(
        !inputs.contains(value), "Expected initializer '%s' not to be a graph input", name);
    initializers.remove(name);
    initializerHeaders.remove(name);
    value.setInfo(ValueInfoProto.newBuilder().setName(name).build());
    value.setType(tensor.type());
    inputs.add(value);
    return tensor;
  }

  /**
   * Returns the constant data of a value: the tensor of an initializer that is not a graph input
   * (inputs can be overridden at run time) or the value of a {@code Constant} node.
   *
   * @param value a value
   * @return the constant, or empty when the value is not constant or not readable as a tensor
   */
  public Optional<Tensor> constantValue(Value value) {
    if (initializers.containsKey(value.name()) && !inputs.contains(value)) {
      return Optional.of(initializers.get(value.name()));
    }
    Node producer = producers.get(value);
    if (producer == null || !producer.opType().equals("Constant") || !producer.domain().isEmpty()) {
      return Optional.empty();
    }
    for (Attribute attribute : producer.attributes()) {
      try {
        switch (attribute.name()) {
          case "value":
            return Optional.of(attribute.asTensor());
          case "value_float":
            return Optional.of(Tensor.floatScalar(attribute.asFloat()));
          case "value_floats":
            return Optional.of(Tensor.floatVector(attribute.asFloats()));
          case "value_int":
            return Optional.of(Tensor.longScalar(attribute.asInt()));
          case "value_ints":
            return Optional.of(Tensor.longVector(attribute.asInts()));
          default:
            break;
        }
      } catch (IllegalArgumentException | IllegalStateException unreadable) {
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  // ---------------------------------------------------------------- nodes

  /**
   * Starts a node of {@code opType}.
   *
   * @param opType the operator type, e.g. {@code "Gemm"}
   * @return the node builder
   */
  public NodeBuilder node(String opType) {
    return new NodeBuilder(this, opType);
  }

  /**
   * Adds a standard-domain node with one output and no attributes.
   *
   * @param opType the operator type, e.g. {@code "MatMul"}
   * @param inputs the inputs
   * @return the output
   * @throws IllegalArgumentException when an input is not in this graph
   */
  public Value op(String opType, Value... inputs) {
    return node(opType).inputs(inputs).output();
  }

  /**
   * Adds a {@code Constant} node holding {@code tensor}.
   *
   * @param tensor the value
   * @return the output
   */
  public Value constant(Tensor tensor) {
    return node("Constant").tensorAttr("value", tensor).output();
  }

  /**
   * Adds a {@code Constant} node holding a FLOAT scalar.
   *
   * @param value the value
   * @return the output
   */
  public Value constantFloat(float value) {
    return constant(Tensor.floatScalar(value));
  }

  /**
   * Adds a {@code Constant} node holding a 1-D FLOAT tensor.
   *
   * @param values the values
   * @return the output
   */
  public Value constantFloats(float... values) {
    return constant(Tensor.floatVector(values));
  }

  /**
   * Adds a {@code Constant} node holding an INT64 scalar.
   *
   * @param value the value
   * @return the output
   */
  public Value constantLong(long value) {
    return constant(Tensor.longScalar(value));
  }

  /**
   * Adds a {@code Constant} node holding a 1-D INT64 tensor.
   *
   * @param values the values
   * @return the output
   */
  public Value constantLongs(long... values) {
    return constant(Tensor.longVector(values));
  }

  /**
   * Returns the nodes in their current order.
   *
   * @return the nodes
   */
  public List<Node> nodes() {
    return Collections.unmodifiableList(nodes);
  }

  /**
   * Returns the node that produces {@code value}.
   *
   * @param value a value of this graph
   * @return the producer, or empty for graph inputs and initializers
   */
  public Optional<Node> producer(Value value) {
    return Optional.ofNullable(producers.get(value));
  }

  /**
   * Returns the nodes that read {@code value}, explicitly or from a subgraph.
   *
   * @param value a value of this graph
   * @return the distinct consumers, in the order their uses were added
   */
  public List<Node> consumers(Value value) {
    List<Node> list = uses.get(value);
    if (list == null) {
      return List.of();
    }
    Set<Node> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
    List<Node> out = new ArrayList<>();
    for (Node node : list) {
      if (distinct.add(node)) {
        out.add(node);
      }
    }
    return out;
  }

  /**
   * Returns the consumer map of all values at once.
   *
   * @return value to its distinct consumers, for every value that has one
   */
  public Map<Value, List<Node>> consumerMap() {
    Map<Value, List<Node>> out = new LinkedHashMap<>();
    for (Value value : values.values()) {
      List<Node> consumers = consumers(value);
      if (!consumers.isEmpty()) {
        out.put(value, consumers);
      }
    }
    return out;
  }

  /**
   * Replaces every explicit use of {@code from} as a node input by {@code to}. Graph outputs and
   * reads from subgraphs are not changed.
   *
   * @param from the value to replace
   * @param to the replacement
   */
  public void replaceAllUses(Value from, Value to) {
    checkOwns(from);
    checkOwns(to);
    for (Node node : consumers(from)) {
      List<Value> in = node.rawInputs();
      for (int i = 0; i < in.size(); i++) {
        if (in.get(i) == from) {
          node.setInput(i, to);
        }
      }
    }
  }

  /**
   * Removes a node whose outputs are neither read nor graph outputs.
   *
   * @param node a node of this graph
   * @throws IllegalArgumentException when an output is still read or is a graph output
   */
  public void removeNode(Node node) {
    checkOwns(node);
    for (Value output : node.presentOutputs()) {
      checkUnused(output, "remove " + node);
    }
    for (Value input : node.rawInputs()) {
      removeUse(input, node);
    }
    for (Value input : node.implicitInputs()) {
      removeUse(input, node);
    }
    for (Value output : node.presentOutputs()) {
      forget(output);
    }
    nodes.remove(node);
    nodeSet.remove(node);
    nodeNames.remove(node.name());
  }

  /**
   * Removes every node that no graph output depends on.
   *
   * @return the number of nodes removed
   */
  public int prune() {
    Set<Node> live = Collections.newSetFromMap(new IdentityHashMap<>());
    Deque<Value> work = new ArrayDeque<>(outputs);
    while (!work.isEmpty()) {
      Node producer = producers.get(work.pop());
      if (producer != null && live.add(producer)) {
        producer.presentInputs().forEach(work::push);
        producer.implicitInputs().forEach(work::push);
      }
    }
    List<Node> order = topologicalOrder();
    int removed = 0;
    for (int i = order.size() - 1; i >= 0; i--) {
      if (!live.contains(order.get(i))) {
        removeNode(order.get(i));
        removed++;
      }
    }
    return removed;
  }

  /**
   * Returns the nodes in a topological order: every node after the producers of its inputs. Among
   * nodes that are ready at the same time the current order is kept, so a sorted graph comes back
   * unchanged.
   *
   * @return the nodes, sorted
   * @throws IllegalArgumentException when the graph has a cycle
   */
  public List<Node> topologicalOrder() {
    Map<Node, Integer> index = new IdentityHashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      index.put(nodes.get(i), i);
    }
    int[] pending = new int[nodes.size()];
    List<List<Integer>> dependents = new ArrayList<>(nodes.size());
    for (int i = 0; i < nodes.size(); i++) {
      dependents.add(new ArrayList<>());
    }
    for (int i = 0; i < nodes.size(); i++) {
      Node node = nodes.get(i);
      Set<Node> deps = Collections.newSetFromMap(new IdentityHashMap<>());
      for (Value input : node.presentInputs()) {
        Node producer = producers.get(input);
        if (producer != null) {
          deps.add(producer);
        }
      }
      for (Value input : node.implicitInputs()) {
        Node producer = producers.get(input);
        if (producer != null) {
          deps.add(producer);
        }
      }
      pending[i] = deps.size();
      for (Node dep : deps) {
        dependents.get(index.get(dep)).add(i);
      }
    }
    PriorityQueue<Integer> ready = new PriorityQueue<>();
    for (int i = 0; i < pending.length; i++) {
      if (pending[i] == 0) {
        ready.add(i);
      }
    }
    List<Node> order = new ArrayList<>(nodes.size());
    while (!ready.isEmpty()) {
      int i = ready.poll();
      order.add(nodes.get(i));
      for (int dependent : dependents.get(i)) {
        if (--pending[dependent] == 0) {
          ready.add(dependent);
        }
      }
    }
    if (order.size() < nodes.size()) {
      List<String> stuck = new ArrayList<>();
      for (int i = 0; i < pending.length && stuck.size() < 5; i++) {
        if (pending[i] > 0) {
          stuck.add(nodes.get(i).toString());
        }
      }
      throw new IllegalArgumentException(
          "Expected an acyclic graph '"
              + name()
              + "', found a cycle through "
              + (nodes.size() - order.size())
              + " nodes, among them "
              + stuck);
    }
    return order;
  }

  /**
   * Reorders the nodes topologically ({@link #topologicalOrder()}).
   *
   * @throws IllegalArgumentException when the graph has a cycle
   */
  public void sortTopologically() {
    List<Node> order = topologicalOrder();
    nodes.clear();
    nodes.addAll(order);
  }

  /** Returns a one-line summary: name, opsets and counts. */
  @Override
  public String toString() {
    return "Graph '"
        + name()
        + "' "
        + opsets()
        + ": "
        + nodes.size()
        + " nodes, "
        + inputs.size()
        + " inputs, "
        + initializers.size()
        + " initializers, "
        + outputs.size()
        + " outputs";
  }

  // ---------------------------------------------------------------- internals

  Node addNode(
      String opType,
      String domain,
      String nodeName,
      List<Value> nodeInputs,
      List<String> outputNames,
      Map<String, Attribute> attributes) {
    for (Value input : nodeInputs) {
      if (input != null) {
        checkOwns(input);
      }
    }
    String resolvedName;
    if (nodeName == null) {
      resolvedName = uniqueName(opType);
    } else {
      Checks.checkArgument(
          !nodeNames.contains(nodeName),
          "Duplicate node name '%s' in graph '%s'",
          nodeName,
          name());
      resolvedName = nodeName;
    }
    Set<String> fresh = new HashSet<>();
    for (String outputName : outputNames) {
      if (outputName != null && !outputName.isEmpty()) {
        checkFree(outputName);
        Checks.checkArgument(
            fresh.add(outputName),
            "Duplicate value name '%s' in graph '%s': output twice of node '%s' (%s)",
            outputName,
            name(),
            resolvedName,
            opType);
      }
    }
    List<Value> outs = new ArrayList<>(outputNames.size());
    for (int i = 0; i < outputNames.size(); i++) {
      String outputName = outputNames.get(i);
      if (outputName == null) {
        outputName = uniqueName(resolvedName + "_output_" + i);
      }
      outs.add(outputName.isEmpty() ? null : define(outputName));
    }
    NodeProto.Builder header = NodeProto.newBuilder().setName(resolvedName).setOpType(opType);
    if (!domain.isEmpty()) {
      header.setDomain(domain);
    }
    Node node = new Node(this, header.build(), outs);
    node.rawAttributes().putAll(attributes);
    register(node);
    for (Value input : nodeInputs) {
      node.rawInputs().add(input);
      addUse(input, node);
    }
    if (node.hasGraphAttribute()) {
      attributesChanged(node);
    }
    TypeNotes.apply(node);
    return node;
  }

  private void register(Node node) {
    nodes.add(node);
    nodeSet.add(node);
    nodeNames.add(node.name());
    for (Value output : node.presentOutputs()) {
      producers.put(output, node);
    }
  }

  private Value attachInitializer(String name, Tensor tensor) {
    Value existing = values.get(name);
    if (existing != null && inputs.contains(existing) && !initializers.containsKey(name)) {
      existing
          .type()
          .ifPresent(
              declared -> {
                Checks.checkArgument(
                    declared.elementType() == tensor.elementType()
                        && shapeAdmits(declared.shape(), tensor.shape()),
                    "Expected %s for initializer '%s' to match its graph input, found %s",
                    declared,
                    name,
                    tensor.type());
              });
      initializers.put(name, tensor);
      return existing;
    }
    Value value = define(name);
    value.setNoteIfAbsent(tensor.type());
    initializers.put(name, tensor);
    return value;
  }

  private static boolean shapeAdmits(Shape declared, long[] sizes) {
    if (!declared.isRankKnown()) {
      return true;
    }
    if (declared.rank() != sizes.length) {
      return false;
    }
    for (int i = 0; i < sizes.length; i++) {
      if (declared.dim(i) instanceof Dim.Fixed fixed && fixed.size() != sizes[i]) {
        return false;
      }
    }
    return true;
  }

  private Value define(String name) {
    checkFree(name);
    Value value = new Value(this, name);
    values.put(name, value);
    return value;
  }

  private void checkFree(String name) {
    Objects.requireNonNull(name, "name");
    Checks.checkArgument(!name.isEmpty(), "Expected a non-empty value name in graph '%s'", name());
    Value existing = values.get(name);
    if (existing != null) {
      throw new IllegalArgumentException(
          "Duplicate value name '" + name + "' in graph '" + name() + "': " + describe(existing));
    }
  }

  private String describe(Value value) {
    Node producer = producers.get(value);
    if (producer != null) {
      return "already an output of " + producer;
    } else if (initializers.containsKey(value.name())) {
      return "already an initializer";
    } else if (inputs.contains(value)) {
      return "already a graph input";
    } else if (sparseInitializers.contains(value.name())) {
      return "already a sparse initializer";
    }
    return "already defined";
  }

  private ValueInfoProto infoOf(Value value) {
    if (value.info() != null) {
      return value.info();
    }
    ValueInfoProto.Builder info = ValueInfoProto.newBuilder().setName(value.name());
    value.type().ifPresent(t -> info.setType(TypeProtos.toProto(t)));
    return info.build();
  }

  private void checkUnused(Value value, String attempted) {
    List<Node> consumers = consumers(value);
    if (!consumers.isEmpty()) {
      throw new IllegalArgumentException(
          "Cannot "
              + attempted
              + ": value '"
              + value.name()
              + "' is read by "
              + consumers.get(0)
              + (consumers.size() > 1 ? " and " + (consumers.size() - 1) + " more" : ""));
    }
    if (outputs.contains(value)) {
      throw new IllegalArgumentException(
          "Cannot " + attempted + ": value '" + value.name() + "' is a graph output");
    }
  }

  private void forget(Value value) {
    values.remove(value.name());
    producers.remove(value);
    uses.remove(value);
    valueInfo.remove(value);
  }

  void checkOwns(Value value) {
    Objects.requireNonNull(value, "value");
    if (value.graph() != this || values.get(value.name()) != value) {
      throw new IllegalArgumentException(
          "Expected a value of graph '"
              + name()
              + "', found "
              + value
              + (value.graph() != this
                  ? " of graph '" + value.graph().name() + "'"
                  : " (removed)"));
    }
  }

  void checkOwns(Node node) {
    if (!nodeSet.contains(node)) {
      throw new IllegalArgumentException(
          "Expected a node of graph '" + name() + "', found " + node + " (removed or foreign)");
    }
  }

  void useChanged(Node node, Value old, Value now) {
    removeUse(old, node);
    addUse(now, node);
  }

  private void addUse(Value value, Node node) {
    if (value != null) {
      uses.computeIfAbsent(value, v -> new ArrayList<>()).add(node);
    }
  }

  private void removeUse(Value value, Node node) {
    if (value == null) {
      return;
    }
    List<Node> list = uses.get(value);
    if (list != null) {
      list.remove(node);
      if (list.isEmpty()) {
        uses.remove(value);
      }
    }
  }

  void attributesChanged(Node node) {
    for (Value old : node.implicitInputs()) {
      removeUse(old, node);
    }
    Set<String> free = new LinkedHashSet<>();
    for (Attribute attribute : node.rawAttributes().values()) {
      AttributeProto proto = attribute.toProto();
      if (proto.getType() == AttributeType.GRAPH) {
        collectFreeNames(proto.getG(), free);
      } else if (proto.getType() == AttributeType.GRAPHS) {
        proto.getGraphsList().forEach(g -> collectFreeNames(g, free));
      }
    }
    List<Value> implicit = new ArrayList<>();
    for (String name : free) {
      Value value = values.get(name);
      if (value != null) {
        implicit.add(value);
        addUse(value, node);
      }
    }
    node.setImplicitInputs(implicit);
  }

  /** Adds the names that {@code graph} reads but does not define to {@code out}. */
  private static void collectFreeNames(GraphProto graph, Set<String> out) {
    Set<String> defined = new HashSet<>();
    graph.getInputList().forEach(v -> defined.add(v.getName()));
    graph.getInitializerList().forEach(t -> defined.add(t.getName()));
    graph.getSparseInitializerList().forEach(s -> defined.add(s.getValues().getName()));
    graph.getNodeList().forEach(n -> defined.addAll(n.getOutputList()));
    for (NodeProto node : graph.getNodeList()) {
      for (String input : node.getInputList()) {
        if (!input.isEmpty() && !defined.contains(input)) {
          out.add(input);
        }
      }
      for (AttributeProto attribute : node.getAttributeList()) {
        Set<String> nested = new LinkedHashSet<>();
        if (attribute.hasG()) {
          collectFreeNames(attribute.getG(), nested);
        }
        attribute.getGraphsList().forEach(g -> collectFreeNames(g, nested));
        nested.stream().filter(n -> !defined.contains(n)).forEach(out::add);
      }
    }
    for (ValueInfoProto output : graph.getOutputList()) {
      if (!defined.contains(output.getName())) {
        out.add(output.getName());
      }
    }
  }
}
