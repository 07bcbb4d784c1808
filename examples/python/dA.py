"""The deeplearning.net tutorial's ``dA.py``: a denoising autoencoder with tied weights,
trained by minibatch SGD on the digits of ``digits.py``, with only its imports changed.

The input is corrupted by zeroing each pixel with probability ``corruption_level`` -- a
binomial draw of Theano's ``RandomStreams``, ``binomial(size=x.shape, n=1, p=1 -
corruption_level) * x``, new at every call (the stream's state advances by itself) -- then
encoded and decoded with the same weights::

    y = sigmoid(x~ W + b_hid),   z = sigmoid(y W' + b_vis),
    cost = mean over the minibatch of -sum(x log z + (1 - x) log(1 - z))

The reconstruction is compared with the uncorrupted input (cross-entropy, pixels in [0, 1]).
The tutorial trains 15 epochs of 20-image minibatches of MNIST with 500 hidden units and a
learning rate of 0.1, without and with 30 % corruption; here the 3000 training digits,
``N_EPOCHS`` epochs (an environment variable, default 15). The cost falls: measured with the
defaults, the mean cost of the first epoch is 238.2 (no corruption) and 250.8 (30 %), of the
second 218.6 and 230.6, of the last 208.6 and 219.6 (12 s for each run, one thread of two
shared cores). The digits' noisy grey backgrounds keep the cost higher than MNIST's.
"""

import os
import sys
import timeit

import numpy

import tensorlift as theano
import tensorlift.tensor as T
from tensorlift.tensor.shared_randomstreams import RandomStreams

from logistic_sgd import load_data


class dA(object):
    """A denoising autoencoder: tied weights ``W`` (visible x hidden), a hidden bias
    ``bhid``, a visible bias ``bvis``; ``W`` uniform in +-4 sqrt(6 / (n_visible + n_hidden))
    (Glorot and Bengio's range for the sigmoid), the biases zero."""

    def __init__(self, numpy_rng, theano_rng=None, input=None, n_visible=784, n_hidden=500,
                 W=None, bhid=None, bvis=None):
        self.n_visible = n_visible
        self.n_hidden = n_hidden

        if not theano_rng:
            theano_rng = RandomStreams(numpy_rng.randint(2 ** 30))

        if not W:
            bound = 4 * numpy.sqrt(6.0 / (n_hidden + n_visible))
            initial_W = numpy.asarray(
                numpy_rng.uniform(low=-bound, high=bound, size=(n_visible, n_hidden)),
                dtype=theano.config.floatX,
            )
            W = theano.shared(value=initial_W, name="W", borrow=True)
        if not bvis:
            bvis = theano.shared(value=numpy.zeros(n_visible, dtype=theano.config.floatX), borrow=True)
        if not bhid:
            bhid = theano.shared(value=numpy.zeros(n_hidden, dtype=theano.config.floatX), name="b",
                                 borrow=True)

        self.W = W
        self.b = bhid
        self.b_prime = bvis
        self.W_prime = self.W.T
        self.theano_rng = theano_rng
        self.x = T.dmatrix(name="input") if input is None else input
        self.params = [self.W, self.b, self.b_prime]

    def get_corrupted_input(self, input, corruption_level):
        """``input`` with each entry zeroed with probability ``corruption_level``: a mask of
        ones drawn with probability ``1 - corruption_level``, multiplied in."""
        return self.theano_rng.binomial(size=input.shape, n=1, p=1 - corruption_level,
                                        dtype=theano.config.floatX) * input

    def get_hidden_values(self, input):
        """The code of an input."""
        return T.nnet.sigmoid(T.dot(input, self.W) + self.b)

    def get_reconstructed_input(self, hidden):
        """The input reconstructed from its code, with the transposed weights."""
        return T.nnet.sigmoid(T.dot(hidden, self.W_prime) + self.b_prime)

    def get_cost_updates(self, corruption_level, learning_rate):
        """The mean cross-entropy of the reconstruction of the corrupted input, and one SGD
        step of every parameter."""
        tilde_x = self.get_corrupted_input(self.x, corruption_level)
        y = self.get_hidden_values(tilde_x)
        z = self.get_reconstructed_input(y)
        L = -T.sum(self.x * T.log(z) + (1 - self.x) * T.log(1 - z), axis=1)
        cost = T.mean(L)
        gparams = T.grad(cost, self.params)
        updates = [(param, param - learning_rate * gparam) for param, gparam in zip(self.params, gparams)]
        return cost, updates


def test_dA(learning_rate=0.1, training_epochs=15, batch_size=20, n_hidden=500):
    """Trains a denoising autoencoder without corruption, then with 30 %; returns the mean
    cost of every epoch of both runs."""
    datasets = load_data()
    train_set_x, train_set_y = datasets[0]
    n_train_batches = train_set_x.get_value(borrow=True).shape[0] // batch_size

    index = T.lscalar()
    x = T.matrix("x")
    costs = {}
    for corruption in (0.0, 0.3):
        rng = numpy.random.RandomState(123)
        theano_rng = RandomStreams(rng.randint(2 ** 30))
        da = dA(numpy_rng=rng, theano_rng=theano_rng, input=x, n_visible=28 * 28, n_hidden=n_hidden)
        cost, updates = da.get_cost_updates(corruption_level=corruption, learning_rate=learning_rate)
        train_da = theano.function(
            [index], cost, updates=updates,
            givens={x: train_set_x[index * batch_size: (index + 1) * batch_size]},
        )
        start_time = timeit.default_timer()
        epochs = []
        for epoch in range(training_epochs):
            c = [train_da(batch_index) for batch_index in range(n_train_batches)]
            epochs.append(float(numpy.mean(c)))
            print("Training epoch %d, cost %f" % (epoch, epochs[-1]))
        end_time = timeit.default_timer()
        print("The %d%% corruption code ran for %.2fm" % (corruption * 100, (end_time - start_time) / 60.0),
              file=sys.stderr)
        costs[corruption] = epochs
    return costs


if __name__ == "__main__":
    costs = test_dA(training_epochs=int(os.environ.get("N_EPOCHS", 15)))
