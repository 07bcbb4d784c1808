"""Theano's scan tutorial (``doc/tutorial/loop.txt``), cell by cell, with only the imports
changed: A**k by repeated multiplication, a polynomial over its coefficients, the Jacobian
by scan, a running sum, a while loop, and a recurrent update with a shared variable.
"""

import numpy as np

import tensorlift as theano
import tensorlift.tensor as T

# Computing A**k: the result of one step is the input of the next.
k = T.iscalar("k")
A = T.vector("A")
result, updates = theano.scan(fn=lambda prior_result, A: prior_result * A,
                              outputs_info=T.ones_like(A),
                              non_sequences=A,
                              n_steps=k)
# Only the last value is used: the loop stores nothing else.
final_result = result[-1]
power = theano.function(inputs=[A, k], outputs=final_result, updates=updates)
power_result = power(np.arange(10, dtype=theano.config.floatX), 2)
print("A**2:", power_result)

# Iterating over the first dimension of a tensor: a polynomial.
coefficients = T.vector("coefficients")
x = T.scalar("x")
max_coefficients_supported = 10000
components, updates = theano.scan(fn=lambda coefficient, power, free_variable: coefficient * (free_variable ** power),
                                  outputs_info=None,
                                  sequences=[coefficients, T.arange(max_coefficients_supported)],
                                  non_sequences=x)
polynomial = components.sum()
calculate_polynomial = theano.function(inputs=[coefficients, x], outputs=polynomial)
test_coefficients = np.asarray([1, 0, 2], dtype=np.float32)
test_value = 3
polynomial_value = calculate_polynomial(test_coefficients, test_value)
print("polynomial:", polynomial_value, "expected:", 1.0 * (3 ** 0) + 0.0 * (3 ** 1) + 2.0 * (3 ** 2))

# The Jacobian by scan: one gradient per element of y.
x = T.dvector("x")
y = x ** 2
J, updates = theano.scan(lambda i, y, x: T.grad(y[i], x), sequences=T.arange(y.shape[0]), non_sequences=[y, x])
jacobian = theano.function([x], J, updates=updates)
jacobian_value = jacobian([4, 4])
print("jacobian:\n", jacobian_value)

# Accumulating: the running sum of a vector.
v = T.dvector("v")
running, _ = theano.scan(lambda e, acc: acc + e, sequences=v, outputs_info=T.constant(0.0))
running_sum = theano.function([v], running)(np.arange(1.0, 6.0))
print("running sum:", running_sum)

# A while loop: powers of two until one exceeds max_value.
def power_of_2(previous_power, max_value):
    return previous_power * 2, theano.scan_module.until(previous_power * 2 > max_value)

max_value = T.scalar()
values, _ = theano.scan(power_of_2, outputs_info=T.constant(1.), non_sequences=max_value, n_steps=1024)
powers = theano.function([max_value], values)(45)
print("powers of two:", powers)

# Updating a shared variable at every step: a counter of the steps run.
counter = theano.shared(0, "counter")
seq = T.dvector("seq")
scaled, updates = theano.scan(lambda e: (e * counter, {counter: counter + 1}), sequences=seq)
count_steps = theano.function([seq], scaled, updates=updates)
scaled_value = count_steps(np.ones(4))
print("scaled by step:", scaled_value, "counter:", counter.get_value())
