"""An Elman recurrent network trained by backpropagation through time with ``scan``.

The task: read a sequence of numbers and output, at every step, the sum of the last three
inputs. Written as a Theano 1.0 program; only the imports name tensorlift.
"""

import numpy as np

import tensorlift as theano
import tensorlift.tensor as T


def make_data(rng, steps, batch):
    x = rng.uniform(-1, 1, size=(steps, batch, 1))
    y = np.zeros_like(x)
    for t in range(steps):
        y[t] = x[max(0, t - 2):t + 1].sum(axis=0)
    return x, y


def train(epochs=300, hidden=16, steps=20, batch=32, lr=0.1, seed=1234, verbose=True):
    rng = np.random.RandomState(seed)
    init = lambda *shape: theano.shared(rng.uniform(-0.3, 0.3, size=shape), borrow=True)
    W_in, W_h, W_out = init(1, hidden), init(hidden, hidden), init(hidden, 1)
    b_h = theano.shared(np.zeros(hidden), "b_h")
    b_out = theano.shared(np.zeros(1), "b_out")
    params = [W_in, W_h, W_out, b_h, b_out]

    x = T.tensor3("x")
    y = T.tensor3("y")

    def step(x_t, h_prev):
        h = T.tanh(T.dot(x_t, W_in) + T.dot(h_prev, W_h) + b_h)
        return h, T.dot(h, W_out) + b_out

    h0 = T.zeros((x.shape[1], hidden))
    (h, out), _ = theano.scan(step, sequences=x, outputs_info=[h0, None])
    cost = T.mean((out - y) ** 2)
    grads = T.grad(cost, params)
    updates = [(p, p - lr * g) for p, g in zip(params, grads)]
    train_fn = theano.function([x, y], cost, updates=updates)

    losses = []
    for epoch in range(epochs):
        xs, ys = make_data(rng, steps, batch)
        losses.append(float(train_fn(xs, ys)))
        if verbose and epoch % 50 == 0:
            print(f"epoch {epoch:4d}  loss {losses[-1]:.5f}")
    return losses


if __name__ == "__main__":
    losses = train()
    print(f"first loss {losses[0]:.4f}, last loss {losses[-1]:.4f}")
