/** Tests of the training loop's call order, staleness, failure handling and checkpoints. */
package dev.jbond.loop;
