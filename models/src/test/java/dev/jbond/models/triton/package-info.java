/** Tests of the Triton model repository writer. */
package dev.jbond.models.triton;
