// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TestERC20} from "./TestERC20.sol";

/// @notice ERC20 that burns `feeBps` of every transfer: the receiver gets less than was sent.
/// A token-safety check must detect it before a strategy routes through it.
contract FeeOnTransferToken is TestERC20 {
    uint16 public immutable feeBps;

    constructor(string memory name_, string memory symbol_, uint8 decimals_, uint16 feeBps_)
        TestERC20(name_, symbol_, decimals_)
    {
        feeBps = feeBps_;
    }

    function _transfer(address from, address to, uint256 amount) internal override {
        uint256 fee = amount * feeBps / 10_000;
        balanceOf[from] -= amount;
        balanceOf[to] += amount - fee;
        totalSupply -= fee;
        emit Transfer(from, to, amount - fee);
        if (fee > 0) emit Transfer(from, address(0), fee);
    }
}
