// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TestERC20} from "./TestERC20.sol";

/// @notice ERC20 that can be bought but not sold: only the deployer and addresses it exempts
/// (its pools) may send tokens, so a buyer's tokens are stuck. For token-safety checks.
contract HoneypotToken is TestERC20 {
    address public immutable deployer;
    mapping(address => bool) public exempt;

    error TransferBlocked(address from);

    constructor(string memory name_, string memory symbol_, uint8 decimals_) TestERC20(name_, symbol_, decimals_) {
        deployer = msg.sender;
        exempt[msg.sender] = true;
    }

    function setExempt(address account, bool value) external {
        if (msg.sender != deployer) revert TransferBlocked(msg.sender);
        exempt[account] = value;
    }

    function _transfer(address from, address to, uint256 amount) internal override {
        if (!exempt[from]) revert TransferBlocked(from);
        super._transfer(from, to, amount);
    }
}
