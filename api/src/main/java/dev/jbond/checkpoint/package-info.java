/**
 * Implementations of {@link dev.jbond.spi.CheckpointStore} that need only the JDK: {@link
 * dev.jbond.checkpoint.FileCheckpointStore} keeps checkpoints as files in one directory.
 */
package dev.jbond.checkpoint;
