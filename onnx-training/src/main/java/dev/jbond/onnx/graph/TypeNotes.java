package dev.jbond.onnx.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Best-effort type notes for the outputs of common standard-domain ops: element type always where
 * the op fixes it, rank and dimensions where the inputs' notes and constant inputs allow. This is
 * not shape inference: unknown ops, inconsistent inputs and data-dependent shapes simply leave the
 * outputs without (or with partial) notes, and ONNX Runtime remains the judge of validity.
 */
final class TypeNotes {
  private static final Set<String> SAME_AS_FIRST =
      Set.of(
          "Identity",
          "Neg",
          "Abs",
          "Sqrt",
          "Exp",
          "Log",
          "Tanh",
          "Sigmoid",
          "Relu",
          "Erf",
          "Softmax",
          "LogSoftmax",
          "Reciprocal",
          "Sin",
          "Cos",
          "Gelu",
          "LeakyRelu",
          "Elu",
          "Softplus",
          "Floor",
          "Ceil",
          "Round",
          "Sign",
          "Clip",
          "CumSum",
          "Trilu");
  private static final Set<String> BROADCAST =
      Set.of("Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Mod", "PRelu", "Sum", "Mean");
  private static final Set<String> COMPARISON =
      Set.of("Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor");
  private static final Set<String> REDUCE =
      Set.of(
          "ReduceSum",
          "ReduceMean",
          "ReduceMax",
          "ReduceMin",
          "ReduceProd",
          "ReduceL1",
          "ReduceL2",
          "ReduceLogSumExp",
          "ReduceSumSquare",
          "ReduceLogSum");

  private TypeNotes() {}

  /** Sets notes on those outputs of {@code node} that have none yet. */
  static void apply(Node node) {
    if (!node.domain().isEmpty() && !node.domain().equals("ai.onnx")) {
      return;
    }
    List<TensorType> types;
    try {
      types = infer(node);
    } catch (IllegalArgumentException | IllegalStateException | ArithmeticException inconsistent) {
      // Inconsistent or unexpected inputs: leave the notes out and let ONNX Runtime report it.
      return;
    }
    for (int i = 0; i < types.size() && i < node.outputCount(); i++) {
      if (node.hasOutput(i)) {
        node.output(i).setNoteIfAbsent(types.get(i));
      }
    }
  }

  private static List<TensorType> infer(Node node) {
    String op = node.opType();
    if (op.equals("Constant")) {
      return one(node.graph().constantValue(node.output(0)).map(Tensor::type).orElse(null));
    }
    if (SAME_AS_FIRST.contains(op)) {
      return one(typeOf(node, 0));
    }
    if (op.equals("Dropout")) {
      TensorType x = typeOf(node, 0);
      return x == null ? List.of() : List.of(x, new TensorType(ElementType.BOOL, x.shape()));
    }
    if (BROADCAST.contains(op)) {
      return one(broadcastAll(node, 0, node.inputCount()));
    }
    if (COMPARISON.contains(op) || op.equals("Not")) {
      Shape shape = op.equals("Not") ? shapeOf(node, 0) : broadcastShapes(node, 0, 2);
      return one(new TensorType(ElementType.BOOL, shape));
    }
    if (op.equals("Where")) {
      TensorType x = typeOf(node, 1);
      ElementType type = x != null ? x.elementType() : elementOf(node, 2);
      return type == null ? List.of() : one(new TensorType(type, broadcastShapes(node, 0, 3)));
    }
    if (REDUCE.contains(op)) {
      return one(reduce(node));
    }
    return switch (op) {
      case "Cast" ->
          one(
              new TensorType(
                  ElementType.fromCode((int) node.intAttribute("to", 0)), shapeOf(node, 0)));
      case "Shape" -> one(shapeOp(node));
      case "Size" -> one(TensorType.scalar(ElementType.INT64));
      case "MatMul" -> one(matMul(node));
      case "Transpose" -> one(transpose(node));
      case "Unsqueeze" -> one(unsqueeze(node));
      case "Squeeze" -> one(squeeze(node));
      case "Reshape" -> one(reshape(node));
      case "Concat" -> one(concat(node));
      case "Split" -> split(node);
      case "Gather" -> one(gather(node));
      case "Expand" -> one(expand(node));
      case "ConstantOfShape" -> one(constantOfShape(node));
      case "Range" -> one(withShape(elementOf(node, 0), Shape.unknownDims(1)));
      case "LayerNormalization" -> layerNorm(node);
      case "Gemm" -> one(gemm(node));
      default -> List.of();
    };
  }

  private static List<TensorType> one(TensorType type) {
    return type == null ? List.of() : List.of(type);
  }

  private static TensorType withShape(ElementType type, Shape shape) {
    return type == null ? null : new TensorType(type, shape);
  }

  private static TensorType typeOf(Node node, int index) {
    return node.hasInput(index) ? node.input(index).type().orElse(null) : null;
  }

  private static ElementType elementOf(Node node, int index) {
    TensorType type = typeOf(node, index);
    return type == null ? null : type.elementType();
  }

  private static Shape shapeOf(Node node, int index) {
    return node.hasInput(index) ? node.input(index).shape() : Shape.unknownRank();
  }

  private static Optional<long[]> constantInts(Node node, int index) {
    if (!node.hasInput(index)) {
      return Optional.empty();
    }
    return node.graph().constantValue(node.input(index)).map(Tensor::toLongValues);
  }

  /** Returns the axes given as attribute or constant input, empty when absent, null if unknown. */
  private static long[] axes(Node node, int inputIndex) {
    Optional<long[]> attribute = node.intsAttribute("axes");
    if (attribute.isPresent()) {
      return attribute.get();
    }
    if (!node.hasInput(inputIndex)) {
      return new long[0];
    }
    return constantInts(node, inputIndex).orElse(null);
  }

  private static TensorType broadcastAll(Node node, int from, int to) {
    ElementType type = elementOf(node, from);
    return type == null ? null : new TensorType(type, broadcastShapes(node, from, to));
  }

  private static Shape broadcastShapes(Node node, int from, int to) {
    Shape result = Shape.scalar();
    for (int i = from; i < to && i < node.inputCount(); i++) {
      result = broadcast(result, shapeOf(node, i));
    }
    return result;
  }

  static Shape broadcast(Shape a, Shape b) {
    if (!a.isRankKnown() || !b.isRankKnown()) {
      return Shape.unknownRank();
    }
    int rank = Math.max(a.rank(), b.rank());
    Dim[] dims = new Dim[rank];
    for (int i = 0; i < rank; i++) {
      int ia = i - (rank - a.rank());
      int ib = i - (rank - b.rank());
      Dim da = ia >= 0 ? a.dims().get(ia) : Dim.of(1);
      Dim db = ib >= 0 ? b.dims().get(ib) : Dim.of(1);
      dims[i] = broadcast(da, db);
    }
    return Shape.of(dims);
  }

  private static Dim broadcast(Dim a, Dim b) {
    if (a.equals(b)) {
      return a;
    } else if (a.equals(Dim.of(1))) {
      return b;
    } else if (b.equals(Dim.of(1))) {
      return a;
    } else if (a.isFixed() && b.isFixed()) {
      throw new IllegalArgumentException("Incompatible dimensions " + a + " and " + b);
    } else if (a.isFixed()) {
      return a;
    } else if (b.isFixed()) {
      return b;
    }
    return Dim.unknown();
  }

  private static TensorType shapeOp(Node node) {
    Shape x = shapeOf(node, 0);
    boolean sliced = node.attribute("start").isPresent() || node.attribute("end").isPresent();
    if (!x.isRankKnown() || sliced) {
      return new TensorType(ElementType.INT64, Shape.unknownDims(1));
    }
    return TensorType.of(ElementType.INT64, x.rank());
  }

  private static TensorType matMul(Node node) {
    TensorType a = typeOf(node, 0);
    if (a == null) {
      return null;
    }
    Shape sa = a.shape();
    Shape sb = shapeOf(node, 1);
    if (!sa.isRankKnown() || !sb.isRankKnown() || sa.rank() == 0 || sb.rank() == 0) {
      return TensorType.unknownShape(a.elementType());
    }
    List<Dim> da = new ArrayList<>(sa.dims());
    List<Dim> db = new ArrayList<>(sb.dims());
    boolean vectorA = da.size() == 1;
    boolean vectorB = db.size() == 1;
    if (vectorA) {
      da.add(0, Dim.of(1));
    }
    if (vectorB) {
      db.add(Dim.of(1));
    }
    Shape batch =
        broadcast(Shape.of(da.subList(0, da.size() - 2)), Shape.of(db.subList(0, db.size() - 2)));
    List<Dim> out = new ArrayList<>(batch.dims());
    if (!vectorA) {
      out.add(da.get(da.size() - 2));
    }
    if (!vectorB) {
      out.add(db.get(db.size() - 1));
    }
    return new TensorType(a.elementType(), Shape.of(out));
  }

  private static TensorType gemm(Node node) {
    TensorType a = typeOf(node, 0);
    if (a == null) {
      return null;
    }
    Shape sa = a.shape();
    Shape sb = shapeOf(node, 1);
    if (sa.rank() != 2 || sb.rank() != 2) {
      return new TensorType(a.elementType(), Shape.unknownDims(2));
    }
    Dim m = sa.dim(node.intAttribute("transA", 0) == 0 ? 0 : 1);
    Dim n = sb.dim(node.intAttribute("transB", 0) == 0 ? 1 : 0);
    return TensorType.of(a.elementType(), m, n);
  }

  private static TensorType transpose(Node node) {
    TensorType x = typeOf(node, 0);
    if (x == null || !x.shape().isRankKnown()) {
      return x;
    }
    int rank = x.shape().rank();
    long[] perm = node.intsAttribute("perm").orElse(null);
    Dim[] dims = new Dim[rank];
    for (int i = 0; i < rank; i++) {
      dims[i] = x.shape().dim(perm == null ? rank - 1 - i : (int) perm[i]);
    }
    return new TensorType(x.elementType(), Shape.of(dims));
  }

  private static TensorType unsqueeze(Node node) {
    TensorType x = typeOf(node, 0);
    if (x == null) {
      return null;
    }
    long[] axes = axes(node, 1);
    if (axes == null || !x.shape().isRankKnown()) {
      return TensorType.unknownShape(x.elementType());
    }
    int rank = x.shape().rank() + axes.length;
    Shape outShape = Shape.unknownDims(rank);
    boolean[] inserted = new boolean[rank];
    for (long axis : axes) {
      inserted[outShape.normalizeAxis(axis)] = true;
    }
    Dim[] dims = new Dim[rank];
    int next = 0;
    for (int i = 0; i < rank; i++) {
      dims[i] = inserted[i] ? Dim.of(1) : x.shape().dims().get(next++);
    }
    return new TensorType(x.elementType(), Shape.of(dims));
  }

  private static TensorType squeeze(Node node) {
    TensorType x = typeOf(node, 0);
    if (x == null) {
      return null;
    }
    long[] axes = axes(node, 1);
    Shape shape = x.shape();
    if (axes == null || !shape.isRankKnown()) {
      return TensorType.unknownShape(x.elementType());
    }
    boolean[] removed = new boolean[shape.rank()];
    if (axes.length == 0) {
      if (!shape.isStatic()) {
        return TensorType.unknownShape(x.elementType());
      }
      for (int i = 0; i < removed.length; i++) {
        removed[i] = shape.dim(i).equals(Dim.of(1));
      }
    } else {
      for (long axis : axes) {
        removed[shape.normalizeAxis(axis)] = true;
      }
    }
    List<Dim> dims = new ArrayList<>();
    for (int i = 0; i < removed.length; i++) {
      if (!removed[i]) {
        dims.add(shape.dim(i));
      }
    }
    return new TensorType(x.elementType(), Shape.of(dims));
  }

  private static TensorType reduce(Node node) {
    TensorType x = typeOf(node, 0);
    if (x == null) {
      return null;
    }
    boolean keep = node.intAttribute("keepdims", 1) != 0;
    long[] axes = axes(node, 1);
    Shape shape = x.shape();
    if (axes == null || !shape.isRankKnown()) {
      return TensorType.unknownShape(x.elementType());
    }
    if (axes.length == 0 && node.intAttribute("noop_with_empty_axes", 0) != 0) {
      return x;
    }
    boolean[] reduced = new boolean[shape.rank()];
    if (axes.length == 0) {
      Arrays.fill(reduced, true);
    }
    for (long axis : axes) {
      reduced[shape.normalizeAxis(axis)] = true;
    }
    List<Dim> dims = new ArrayList<>();
    for (int i = 0; i < reduced.length; i++) {
      if (!reduced[i]) {
        dims.add(shape.dim(i));
      } else if (keep) {
        dims.add(Dim.of(1));
      }
    }
    return new TensorType(x.elementType(), Shape.of(dims));
  }

  private static TensorType reshape(Node node) {
    TensorType x = typeOf(node, 0);
    if (x == null) {
      return null;
    }
    Optional<long[]> target = constantInts(node, 1);
    if (target.isEmpty()) {
      Shape shapeInput = shapeOf(node, 1);
      if (shapeInput.rank() == 1 && shapeInput.dim(0) instanceof Dim.Fixed fixed) {
        return new TensorType(x.elementType(), Shape.unknownDims((int) fixed.size()));
      }
      return TensorType.unknownShape(x.elementType());
    }
    long[] sizes = target.get();
    boolean allowZero = node.intAttribute("allowzero", 0) != 0;
    Dim[] dims = new Dim[sizes.length];
    int inferred = -1;
    for (int i = 0; i < sizes.length; i++) {
      if (sizes[i] == -1) {
        inferred = i;
        dims[i] = Dim.unknown();
      } else if (sizes[i] == 0 && !allowZero) {
        dims[i] = x.shape().isRankKnown() ? x.shape().dim(i) : Dim.unknown();
      } else {
        dims[i] = Dim.of(sizes[i]);
      }
    }
    if (inferred >= 0 && x.shape().isStatic()) {
      long known = 1;
      boolean all = true;
      for (int i = 0; i < dims.length; i++) {
        if (i != inferred) {
          if (dims[i] instanceof Dim.Fixed fixed) {
            known *= fixed.size();
          } else {
            all = false;
          }
        }
      }
      if (all && known > 0) {
        dims[inferred] = Dim.of(x.shape().elementCount() / known);
      }
    }
    return new TensorType(x.elementType(), Shape.of(dims));
  }

  private static TensorType concat(Node node) {
    ElementType type = elementOf(node, 0);
    if (type == null) {
      return null;
    }
    Shape first = shapeOf(node, 0);
    if (!first.isRankKnown()) {
      return TensorType.unknownShape(type);
    }
    int axis = first.normalizeAxis(node.intAttribute("axis", 0));
    List<Dim> dims = new ArrayList<>(first.dims());
    long total = 0;
    for (int i = 0; i < node.inputCount(); i++) {
      Shape s = shapeOf(node, i);
      if (s.rank() != first.rank()) {
        return new TensorType(type, Shape.unknownDims(first.rank()));
      }
      if (s.dim(axis) instanceof Dim.Fixed fixed && total >= 0) {
        total += fixed.size();
      } else {
        total = -1;
      }
      for (int d = 0; d < dims.size(); d++) {
        if (d != axis && !dims.get(d).isFixed() && s.dim(d).isFixed()) {
          dims.set(d, s.dim(d));
        }
      }
    }
    dims.set(axis, total >= 0 ? Dim.of(total) : Dim.unknown());
    return new TensorType(type, Shape.of(dims));
  }

  private static List<TensorType> split(Node node) {
    TensorType x = typeOf(node, 0);
    if (x == null) {
      return List.of();
    }
    int parts = node.outputCount();
    List<TensorType> out = new ArrayList<>(parts);
    Shape shape = x.shape();
    if (!shape.isRankKnown()) {
      for (int i = 0; i < parts; i++) {
        out.add(TensorType.unknownShape(x.elementType()));
      }
      return out;
    }
    int axis = shape.normalizeAxis(node.intAttribute("axis", 0));
    long[] sizes = node.intsAttribute("split").orElse(null);
    if (sizes == null) {
      sizes = constantInts(node, 1).orElse(null);
    }
    if (sizes == null
        && !node.hasInput(1)
        && shape.dim(axis) instanceof Dim.Fixed fixed
        && fixed.size() % parts == 0) {
      sizes = new long[parts];
      Arrays.fill(sizes, fixed.size() / parts);
    }
    for (int i = 0; i < parts; i++) {
      List<Dim> dims = new ArrayList<>(shape.dims());
      dims.set(axis, sizes != null && i < sizes.length ? Dim.of(sizes[i]) : Dim.unknown());
      out.add(new TensorType(x.elementType(), Shape.of(dims)));
    }
    return out;
  }

  private static TensorType gather(Node node) {
    TensorType data = typeOf(node, 0);
    if (data == null) {
      return null;
    }
    Shape indices = shapeOf(node, 1);
    if (!data.shape().isRankKnown() || !indices.isRankKnown()) {
      return TensorType.unknownShape(data.elementType());
    }
    int axis = data.shape().normalizeAxis(node.intAttribute("axis", 0));
    List<Dim> dims = new ArrayList<>(data.shape().dims().subList(0, axis));
    dims.addAll(indices.dims());
    dims.addAll(data.shape().dims().subList(axis + 1, data.shape().rank()));
    return new TensorType(data.elementType(), Shape.of(dims));
  }

  private static TensorType expand(Node node) {
    TensorType x = typeOf(node, 0);
    if (x == null) {
      return null;
    }
    Optional<long[]> target = constantInts(node, 1);
    if (target.isPresent()) {
      return new TensorType(x.elementType(), broadcast(x.shape(), Shape.of(target.get())));
    }
    Shape shapeInput = shapeOf(node, 1);
    if (x.shape().isRankKnown()
        && shapeInput.rank() == 1
        && shapeInput.dim(0) instanceof Dim.Fixed fixed) {
      return new TensorType(
          x.elementType(), Shape.unknownDims((int) Math.max(fixed.size(), x.shape().rank())));
    }
    return TensorType.unknownShape(x.elementType());
  }

  private static TensorType constantOfShape(Node node) {
    ElementType type =
        node.attribute("value").map(a -> a.asTensor().elementType()).orElse(ElementType.FLOAT);
    Optional<long[]> target = constantInts(node, 0);
    if (target.isPresent()) {
      return new TensorType(type, Shape.of(target.get()));
    }
    Shape shapeInput = shapeOf(node, 0);
    if (shapeInput.rank() == 1 && shapeInput.dim(0) instanceof Dim.Fixed fixed) {
      return new TensorType(type, Shape.unknownDims((int) fixed.size()));
    }
    return TensorType.unknownShape(type);
  }

  private static List<TensorType> layerNorm(Node node) {
    TensorType x = typeOf(node, 0);
    if (x == null) {
      return List.of();
    }
    ElementType statType =
        ElementType.fromCode((int) node.intAttribute("stash_type", ElementType.FLOAT.code()));
    Shape shape = x.shape();
    if (!shape.isRankKnown()) {
      return List.of(x, TensorType.unknownShape(statType), TensorType.unknownShape(statType));
    }
    int axis = shape.normalizeAxis(node.intAttribute("axis", -1));
    List<Dim> stat = new ArrayList<>(shape.dims());
    for (int i = axis; i < stat.size(); i++) {
      stat.set(i, Dim.of(1));
    }
    TensorType stats = new TensorType(statType, Shape.of(stat));
    return List.of(x, stats, stats);
  }
}
